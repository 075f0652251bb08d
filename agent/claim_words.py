"""Word lists the claim check reads sentences with (relations, evaluations, genres, fillers)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

RELATION_WORDS: dict[str, str] = {
    "director": r"\b(?:direct(?:or|ors|ed|s|ing|ion|orial)|filmmaker|helmed|helmer)\b",
    "writer": r"\b(?:wr(?:ote|itten|iter|iters|iting)|screenplay|screenwriter|scripts?|scripted|"
              r"penned)\b",
    "actor": r"\b(?:star(?:s|ring|red)?|actors?|actress(?:es)?|cast|co-?stars?|plays|played|"
             r"performances?)\b",
    "producer": r"\bproduc(?:er|ers|ed)\b",
    "production_company": r"\b(?:studios?|production compan(?:y|ies))\b",
    "cinematographer": r"\b(?:cinematograph\w*|shot by)\b",
    "composer": r"\b(?:compos(?:er|ed)|soundtrack|music by)\b",
    "award": r"\b(?:awards?|oscars?|nominat\w*|won)\b",
    "sequel": r"\b(?:sequels?|follow-?ups?)\b",
    "prequel": r"\bprequels?\b",
    "franchise": r"\b(?:franchise|series|installments?|trilogy|saga|spin-?offs?|chapter)\b",
    "remake": r"\b(?:remakes?|remade)\b",
    "based_on": r"\b(?:based on (?:a |an |the )?(?:novel|book|story|comic|true|play|manga|"
                r"game|real)|adapt(?:ed|ation)|novel)\b",
    "tag": r"\b(?:tag(?:s|ged)?|keywords?|themes?)\b",
    "genre": r"\bgenres?\b",
    "decade": r"\b(?:decade|era)\b",
    "language": r"\blanguages?\b",
    "country": r"\bcountry\b",
    "subject": r"\bsubjects?\b",
    "cf": r"\b(?:people|viewers|users|fans|audiences?|raters)\b|\bwho (?:rated|liked|loved|"
          r"enjoyed)\b|\balso (?:liked|loved|enjoyed|rated)\b",
    "sequence": r"\b(?:soon after|after rating|recommended after|right after|"
                r"conversations?)\b",
    "plot": r"\b(?:plot|story|storyline|description|synopsis|premise|(?:is|it's|film|movie) "
            r"about|follows|tells|cent(?:er|re)s on|revolves)\b",
}
"""Claim kind -> the words that make it; person roles come first."""

PERSON_ROLES = ("director", "writer", "actor", "producer", "cinematographer", "composer")

RELATION_GROUP: dict[str, str] = {
    "star": "actor", "actor": "actor", "director": "director", "writer": "writer",
    "producer": "producer", "production_company": "production_company",
    "cinematographer": "cinematographer", "composer": "composer",
    "award_won": "award", "award_nomination": "award", "sequel": "sequel", "prequel": "prequel",
    "remake": "remake", "based_on": "based_on", "tag": "tag", "genre": "genre",
    "decade": "decade", "language": "language", "country": "country", "subject": "subject",
}
"""KG relation -> the claim kind it backs."""

EVALUATIVE = {
    "acclaimed", "critically", "well-received", "received", "popular", "popularity", "beloved",
    "classic", "classics", "masterpiece", "award-winning", "hit", "blockbuster", "top-rated",
    "highly", "high", "cult", "iconic", "legendary", "celebrated", "praised", "favorite",
    "favourite", "favorites", "famous", "renowned", "timeless", "memorable", "unforgettable",
    "great", "excellent", "brilliant", "amazing", "fantastic", "stunning", "gripping",
    "thrilling", "captivating", "must-see", "entertaining", "delightful", "heartwarming",
    "hilarious", "epic", "intense", "exciting", "fun", "charming", "powerful", "compelling",
    "engaging", "impressive", "remarkable", "outstanding", "perfect", "wonderful", "beautiful",
    "beautifully", "good", "well-liked", "successful", "success", "hugely", "widely",
    "well-loved", "thought-provoking", "exceptional", "superb", "incredible", "awesome",
    "enjoyable", "engrossing", "riveting", "suspenseful", "action-packed", "touching",
    "moving", "inspiring", "mind-bending", "visually", "stellar", "solid", "strong",
    "top", "acclaim", "reviews", "critics", "gem",
}
COMPARATIVES = {
    "more", "less", "fewer", "better", "worse", "higher", "lower", "greater", "than", "most",
    "least", "best", "worst", "bigger", "larger", "smaller", "superior", "finest", "greatest",
}
NUMBER_WORDS = {
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "dozen", "dozens",
    "hundred", "hundreds", "thousand", "thousands", "twenty", "thirty", "forty", "fifty",
    "sixty", "seventy", "eighty", "ninety", "million", "millions",
}
GENRE_WORDS: dict[str, str] = {
    "action": "action", "adventure": "adventure", "adventures": "adventure",
    "animation": "animation", "animated": "animation", "children": "children",
    "children's": "children", "kids": "children", "family": "children", "comedy": "comedy",
    "comedies": "comedy", "comedic": "comedy", "crime": "crime", "documentary": "documentary",
    "drama": "drama", "dramas": "drama", "fantasy": "fantasy", "film-noir": "film-noir",
    "noir": "film-noir", "horror": "horror", "musical": "musical", "mystery": "mystery",
    "romance": "romance", "romantic": "romance", "sci-fi": "sci-fi", "scifi": "sci-fi",
    "science fiction": "sci-fi", "science-fiction": "sci-fi", "thriller": "thriller",
    "thrillers": "thriller", "war": "war", "western": "western", "westerns": "western",
    "imax": "imax", "history": "history", "historical": "history", "biography": "biography",
    "sport": "sport", "sports": "sport",
}
STARTERS = {"i"}
"""Lower-case forms of words that may be capitalised anywhere."""

STOPWORDS = set("""
a about above after again against all also am an and any are aren't as at be because been
before being below between both but by can can't could did do does doing don't down during
each few for from further had has have having he her here hers herself him himself his how i
if in into is isn't it it's its itself just let's me my myself of off on once only or other
our ours ourselves out over own same she should so some such that that's the their theirs
them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you you'd you'll you're
you've your yours yourself yourselves one ones yet still well much many each every either
whose whether via per since like alike too lot lots thing things way ways here's there's
""".split())
FLUFF = set("""
enjoy enjoyed enjoying enjoys like liked likes loving love loved loves watch watched watching
recommend recommended recommending recommendation pick picks choice option fans fan people
viewers film films movie movies also similar might may could would should check give try
want wanted looking taste tastes mood evening tonight next another same both share shares
sharing shared together connection connected link linked links common rated rate rating
ratings those because since worth title titles word words request requested asked ask
mentioned appreciate appreciated especially think sure find found make makes made feel
feature features featuring featured others gave rated out percent stars star tag tagged
based director directed writer written release released came come comes coming year years
time times who whom part genre genres genre's plus listed list included include includes
matches match matching mention named name called calls says said description described
describes story tells tell follows follow about kind type sort style vibe fit fits fitting
fellow other appeal appeals suggest suggests suggestion suggested going definitely surely
probably chance here there then now right just really quite also either both nice
similarly likewise addition additionally furthermore moreover alongside along
soon after conversation conversations recommended
picked chosen selected falls belongs half third thirds quarter quarters majority share shares among
""".split())
"""Recommendation vocabulary a justification may use without the evidence saying it."""
