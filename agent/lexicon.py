"""Everyday words the reader understands: genre words, eras, greetings, reactions, cues."""

from __future__ import annotations

import re

# Everyday words and phrases -> catalog genre names. Keys are normalised (lower-case, words
# separated by one space). The reader tries longer phrases first.
GENRE_WORDS: dict[str, str] = {
    # comedy
    "funny": "comedy", "comedy": "comedy", "comedies": "comedy", "comedic": "comedy",
    "hilarious": "comedy", "laugh": "comedy", "laughs": "comedy", "make me laugh": "comedy",
    "humor": "comedy", "humour": "comedy", "humorous": "comedy", "goofy": "comedy",
    "silly": "comedy", "lighthearted": "comedy", "light hearted": "comedy", "witty": "comedy",
    "slapstick": "comedy", "spoof": "comedy", "parody": "comedy", "stoner": "comedy",
    "crack up": "comedy", "crack me up": "comedy", "cheer me up": "comedy",
    "rom com": "romance|comedy", "romcom": "romance|comedy", "rom coms": "romance|comedy",
    "romcoms": "romance|comedy", "romantic comedy": "romance|comedy",
    "romantic comedies": "romance|comedy", "adrenaline": "action", "adrenaline rush": "action",
    "thrill ride": "action", "space adventure": "sci-fi|adventure", "space documentary": "documentary",
    # horror
    "scary": "horror", "horror": "horror", "horrors": "horror", "horror movie": "horror",
    "creepy": "horror", "spooky": "horror", "frightening": "horror", "terrifying": "horror",
    "slasher": "horror", "slashers": "horror", "gory": "horror", "gore": "horror",
    "zombie": "horror", "zombies": "horror", "haunted": "horror", "ghost story": "horror",
    "scare me": "horror", "nightmares": "horror", "give me nightmares": "horror",
    "terror": "horror", "terror movie": "horror", "terror movies": "horror",
    "horroe": "horror", "horor": "horror", "scarier": "horror",
    "scariest": "horror", "creepiest": "horror", "halloween movie": "horror",
    # animation / children
    "animation": "animation", "animated": "animation", "cartoon": "animation",
    "cartoons": "animation", "anime": "animation", "pixar": "animation",
    "children": "children", "kids": "children", "kid": "children", "for my kids": "children",
    "for the kids": "children", "for my son": "children", "for my daughter": "children",
    "with my kids": "children", "with the kids": "children", "for kids": "children",
    "kid friendly": "children", "kids movie": "children", "kids movies": "children",
    "family friendly": "family/children", "family movie": "family/children",
    "family movies": "family/children", "family": "family/children",
    "whole family": "family/children", "for the whole family": "family/children",
    "whole fam": "family/children", "the fam": "family/children",
    "feel good": "comedy", "feelgood": "comedy", "a good cry": "drama", "good cry": "drama",
    "historical epic": "history", "epic historical": "history",
    "heartwarming": "drama", "uplifting": "drama", "inspiring": "drama", "wholesome": "family/children",
    "trippy": "sci-fi", "mind blowing": "sci-fi", "gritty": "crime", "violent": "action",
    "bloody": "horror", "intense": "thriller", "chilling": "horror", "nail biting": "thriller",
    "childrens": "children", "toddler": "children", "little ones": "children",
    "disney": "",  # a studio, not a genre ("Love Disney"); listed so it is never Tim Disney
    # drama
    "drama": "drama", "dramas": "drama", "dramatic": "drama", "tearjerker": "drama",
    "tear jerker": "drama", "tearjerkers": "drama", "sad": "drama", "make me cry": "drama",
    "emotional": "drama", "emotionally": "drama", "moving": "drama", "heartbreaking": "drama",
    "ugly cry": "drama", "cry": "drama",
    # romance
    "romance": "romance", "romantic": "romance", "romances": "romance",
    "love story": "romance", "love stories": "romance", "date night": "romance",
    "chick flick": "romance", "chick flicks": "romance", "valentines movie": "romance",
    "valentine s day movie": "romance", "valentines day movie": "romance",
    "valentine movie": "romance",
    # action / adventure
    "action": "action", "action packed": "action", "explosions": "action",
    "shoot em up": "action", "martial arts": "action", "kung fu": "action",
    "superhero": "action", "superheroes": "action", "super hero": "action",
    "car chase": "action", "car chases": "action", "fight scenes": "action",
    "fighting": "action", "blowing up": "action", "shootouts": "action", "shoot outs": "action",
    "adventure": "adventure", "adventures": "adventure", "adventurous": "adventure",
    "epic": "adventure", "quest": "adventure", "swashbuckling": "adventure",
    # sci-fi / fantasy
    "sci fi": "sci-fi", "scifi": "sci-fi", "science fiction": "sci-fi", "space": "sci-fi",
    "aliens": "sci-fi", "futuristic": "sci-fi", "robots": "sci-fi", "dystopian": "sci-fi",
    "time travel": "sci-fi", "cyberpunk": "sci-fi", "sf": "sci-fi", "spaceship": "sci-fi",
    "spaceships": "sci-fi", "outer space": "sci-fi", "other planets": "sci-fi",
    "planets": "sci-fi",
    "sorcery": "fantasy", "swords and sorcery": "fantasy", "sword and sorcery": "fantasy",
    "fantasy": "fantasy", "magic": "fantasy", "magical": "fantasy", "wizards": "fantasy",
    "dragons": "fantasy", "fairy tale": "fantasy", "fairytale": "fantasy",
    # thriller / mystery / crime
    "thriller": "thriller", "thrillers": "thriller", "suspense": "thriller",
    "suspenseful": "thriller", "edge of my seat": "thriller", "tense": "thriller",
    "edge of my couch": "thriller", "edge of the seat": "thriller",
    "edge of your seat": "thriller", "nail biter": "thriller", "nailbiter": "thriller",
    "nail biters": "thriller",
    "psychological": "thriller", "mind bending": "thriller", "twisty": "thriller",
    "mystery": "mystery", "mysteries": "mystery", "whodunit": "mystery",
    "whodunnit": "mystery", "detective": "mystery", "murder mystery": "mystery",
    "crime": "crime", "gangster": "crime", "gangsters": "crime", "mafia": "crime",
    "mob": "crime", "heist": "crime", "heists": "crime", "cop": "crime", "cops": "crime",
    "robbery": "crime", "robberies": "crime", "bank robbery": "crime", "bank heist": "crime",
    "noir": "film-noir", "film noir": "film-noir",
    # others
    "documentary": "documentary", "documentaries": "documentary", "docs": "documentary",
    "real footage": "documentary", "wildlife": "documentary",
    "true story": "drama", "based on a true story": "drama",
    "musical": "musical", "musicals": "musical", "singing": "musical", "songs": "musical",
    "broadway": "musical", "singing and dancing": "musical", "break into song": "musical",
    "burst into song": "musical", "rock band": "music",
    "western": "western", "westerns": "western", "cowboy": "western", "cowboys": "western",
    "wild west": "western", "saloon": "western", "saloons": "western",
    "war": "war", "war movie": "war", "war movies": "war", "military": "war",
    "world war": "war", "ww2": "war", "wwii": "war",
    "biography": "biography", "biopic": "biography", "biopics": "biography",
    "real person": "biography", "real person s": "biography", "real persons": "biography",
    "real people": "biography", "life story": "biography", "real life story": "biography",
    "history": "history", "historical": "history", "period piece": "history",
    "sport": "sport", "sports": "sport", "sports movie": "sport",
    "music": "music",
}
"""Everyday words -> genres (the catalog keeps only the genres it has)."""

# Words that look like genre words but mean something else alone.
GENRE_WORD_NEEDS_CONTEXT = {"space", "moving", "fighting", "cry", "songs", "terror", "sad", "family",
                            "mob", "magic", "music", "epic", "war", "history", "sport", "laugh",
                            "cop", "kid", "quest", "tense",
                            "sf", "docs", "singing", "military", "aliens"}
"""Only a genre when the message is about a kind of movie ("something sad", "space movie")."""

GREETINGS = re.compile(
    r"^\W*(hi+|hello+|hey+|hiya|howdy|yo|greetings|good (morning|afternoon|evening)|"
    r"hi there|hello there|hey there|sup|what'?s up)\b", re.IGNORECASE)
CHITCHAT = re.compile(
    r"^\W*(thanks?( you)?|thank you( so much)?|thx|ty|ok(ay)?|cool|great|nice|awesome|"
    r"lol|haha+|bye|goodbye|see you|have a (good|great|nice) (day|night|one)|you too|"
    r"how are you( doing)?|i'?m (good|fine|great)|not much|same|sure|alright|np|"
    r"no problem|you'?re welcome)\W*$", re.IGNORECASE)

ASK_WORDS = re.compile(
    r"\b(recommend\w*|suggest\w*|suggestion\w*|show me|what should i watch|give me|any ideas|"
    r"ideas for|what (do|have) you (have|got)|looking for|in the mood for|can you find|"
    r"something (to watch|good)|any good|what else|anything else|more like|another one|"
    r"surprise me|what would you)\b"
    r"|^\W*(like|more like|movies? like|films? like)\s+\w+"
    r"|\b(something|anything|movies?|films?)\s+(with|by|like|similar to|starring)\b",
    re.IGNORECASE)
"""A request for suggestions now (with something known, the agent recommends)."""

# Cues before a mention that set its label (checked inside the mention's clause).
NEGATIVE_CUES = re.compile(
    r"\b(not|no|nothing|never|without|don'?t|didn'?t|doesn'?t|do not|did not|hate[sd]?|"
    r"dislike[sd]?|can'?t stand|cannot stand|avoid|except|not a fan|not into|not big on|"
    r"isn'?t|wasn'?t|aren'?t|none|nor|neither|skip|sick of|tired of|boring|too scary|"
    r"not really|stay away|anything but|other than|(could ?n'?t|could not) (really )?get into)\b",
    re.IGNORECASE)
POSITIVE_CUES = re.compile(
    r"\b(like[sd]?|love[sd]?|loving|enjoy(ed|s)?|favou?rites?|fan of|into|adore[sd]?|"
    r"great|good|awesome|amazing|best|want|wanna|mood for|looking for|similar to|such as|"
    r"prefer|recommend|fun|cool|classic|brilliant|fantastic|excellent)\b", re.IGNORECASE)
SEEN_CUES = re.compile(r"\b(seen|saw|watched|have watched|already seen)\b", re.IGNORECASE)
UNSEEN_CUES = re.compile(r"\b(i?haven'?t|i?havent|have not|never|not|didn'?t|did not|"
                         r"don'?t think i('?ve| have)?)\b(\s+\w+){0,2}?\s+(seen|watched|saw|see)\b"
                         r"|\b(never|haven'?t|havent|have not|not)\s+(even\s+|yet\s+)?heard\s+of\b"
                         r"|^\W*(no,?\s+)?(not yet|i (didn'?t|haven'?t|have not))\b"
                         r"(?!\s+(like|love|enjoy|care|mind|think|really|find|get|hate)\b)",
                         re.IGNORECASE)
QUESTION_CUES = re.compile(r"\b(have you (seen|watched)|do you know|did you see|what about|"
                           r"how about|is it|was it|heard of)\b", re.IGNORECASE)

# Whole-message reactions to the cards or suggestions just shown.
REACT_SEEN = re.compile(
    r"\b(seen (it|that|this|them|both|all|those|these)|already seen|i'?ve seen|have seen|"
    r"i saw (it|that)|"
    r"watched (it|that|this|them)|seen that one|seen the (first|second|third|last)|"
    r"(it|that) was (ok|okay|alright|fine|decent)|(they'?re|they are|they were|it'?s|it is) "
    r"(ok|okay|alright|fine|decent)|"
    r"(seen|watched|saw) (them )?(just |pretty much )?(about |almost )?(all|every|both)( of)?"
    r"( the| them| those| these)?)\b",
    re.IGNORECASE)
REACT_LIKED = re.compile(
    r"\b(sounds? (really |so |very |pretty |super )?(good|great|fun|interesting|intriguing|"
    r"awesome|perfect|cool|nice|amazing)|(been |was )?meaning to (see|watch)|"
    r"(love|like|enjoy)d? (both|all) (of )?(those|them|these|two|three|four|five)\b|"
    r"(love|like|enjoy)d? (them )?(both|all)\b(?! (the|of the|kinds?|sorts?|types?|genres?)\b)|"
    r"(those|these) (are |were )?((really|so|very) )?(great|good|"
    r"awesome|amazing|fun|funny) (movies|films|ones|picks)|"
    r"(those|they|these|both) (are|were) "
    r"(both |all )?((really|so|very|pretty) )?(good|great|awesome|amazing|fun|funny)|"
    r"(that|this|it) (would|will|could|might) (work|be "
    r"(great|good|perfect|awesome|fun))|(i'?ll|i will|will) take (it|this|that|them)|"
    r"(i|i do|i really|i also|i still|i did|i actually) (like|love|enjoy) "
    r"(it|that|this|those|them|that one|this one|that movie|that film)|(found|thought) "
    r"(it|that|that one|this|them) (was |were )?((so|really|very|pretty|super) )?(funny|good|"
    r"great|hilarious|awesome|amazing|fantastic|entertaining|fun|cute)|"
    r"(i'?ll|will) (have to |definitely |def |probably |need to )?(go )?(check|watch|try|"
    r"look into|"
    r"see (it|that|this|them))|"
    r"add (it|that) to|heard (good|great) things|heard (it'?s|its|it is) (good|great)|"
    r"(it'?s|its|that'?s|thats|it is|that is|one of) (one of )?my (all[- ]time )?favou?rites?|"
    r"(is|was) (a|an) (\w+ )?(classic|favou?rite)|that one'?s? (good|great)|love (it|that)|"
    r"loved (it|that|them|those)|liked (it|that|them|those)|great (pick|choice|idea|suggestion)|"
    r"perfect|good (one|choice|pick|idea)|those were good|that was good|it was good|"
    r"it'?s good|that'?s a good one|good suggestion|yes please|(is|was|were|are) (a |an )?(so |"
    r"very |really |pretty |just as |just )?(great|good|awesome|amazing|funny|hilarious|fun|"
    r"fantastic|excellent|brilliant|wonderful|incredible)|"
    r"more like|rewatch\w*|"
    r"watch it again|dig (that|it)|look (that|it) up|"
    r"wanted to (see|watch) (it|that)|(should|must|gotta|might|may|want to)( have to)? "
    r"(watch|see|check|try)|(i'?ll|i will) do (that|it)|(love|like) to (watch|see) (it|that|them)|"
    r"(love[sd]?|enjoy(ed)?|like[sd]?) watching (those|them|it|that|this)|on my list|"
    r"(seen|watched) and (loved|liked|enjoyed)|enjoyed (it|that|this|them|those|both)|"
    r"loved both|liked both|another (great|good|awesome) (movie|one|film)|not (too |that |so )?bad|"
    r"well made|(^|[.!?]\s*)(great|awesome|amazing|fantastic) (movie|film)|"
    r"(more|films?|movies?|ones?|something|anything) like (that|this|it)|"
    r"(is|was) (a|an) (true |real |total |great )?clas+ic|mine too|"
    r"(very|really|such a|so|pretty) (good|great|awesome|fun) (movie|film|one)|"
    r"give (it|that|them|those) a (try|shot|go|watch)|one of the best|best (movie|film)s? ever|"
    r"(?<!not )(?<!not a )(huge|big|great|real) fan of (it|that|this|those|them|both)|"
    r"(^|[.!?,]\s*)(yes|yeah|yep|oh|ah|wow|what)?\W*(a |such a )?(really |very )?(good|great|awesome|"
    r"amazing|fantastic|excellent) (movie|film|one|pick|choice)s?(?=\s*([.!?:;)]|$))|"
    r"(that|it|this) (was|is) (one of )?my (all[- ]time )?favou?rite|"
    r"another (great|good|awesome|fantastic|amazing) (\w+ ){0,3}(movie|one|film)|"
    r"(film|movie|one) (that )?i (really |also |truly )?(liked|loved|enjoyed)|"
    r"did a (really |very )?(good|great|fantastic|amazing) job|"
    r"(is|was|were|are) quite (good|great|funny|fun|entertaining)|"
    r"(can|could|will|i'?ll) (definitely |def |surely )?check (it|that|this|them)( one)? out|"
    r"(been|was) wanting to (see|watch)|(will|i'?ll) be sure to (check|watch|see)|"
    r"added (it|them|that|those|both) to my (watch ?list|list)|"
    r"heard (how|that) (good|great)|(that'?s|thats|it'?s|its) (\w+ly )?(so |really |very )?"
    r"(funny|hilarious|great|awesome|amazing|fantastic))\b",
    re.IGNORECASE)
REACT_DISLIKED = re.compile(
    r"\b(not my (thing|cup of tea|style|taste|type)|not (that|this) one|not for me|not that|"
    r"nope|no thanks|no thank you|not interested|(don'?t|do not) like (it|that|them)|"
    r"(didn'?t|did not) (really |much )?(like|enjoy|care for)|"
    r"hated (it|that)|not a fan|(was ?n[o'’]?t|was not|not|am not|i'?m not) (really )?(a )?"
    r"(huge|big|great|real) fan(?! of)|too \w+ for me|ugh|(way|far|much|a bit|kinda) too "
    r"(long|slow|boring|sappy|scary|cheesy|violent|dark|sad|silly|weird|gory|predictable)|"
    r"pass on|something else|not really|meh|boring|(does ?n[o'’]?t|does not|did ?n[o'’]?t) "
    r"(look|sound) (good|great|interesting|fun)|"
    r"(was|were|is) (bad|terrible|awful|boring)|"
    r"(not|n'?t|never been) (a |really a )?(huge |big |great |real )?fan of|"
    r"none of (those|them|these|the \w+)|makes? me cringe|cringe|cringey|cringy|"
    r"(isn'?t|isnt|is not|aren'?t|arent|are not) (really |quite )?my (thing|cup of tea|style|"
    r"type|taste|jam))\b", re.IGNORECASE)
REACT_UNSEEN = UNSEEN_CUES

ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3,
            "4th": 3, "fifth": 4, "5th": 4, "last": -1, "top": 0}
CARD_GROUP = re.compile(r"\b(?:the\s+)?(?P<side>first|last|top)\s+(?P<n>two|three|2|3)\b",
                        re.IGNORECASE)
"""'the first two', 'the last three': several cards at once."""
CARD_REF = re.compile(
    r"(?<!my )(?<!our )(?<!in )\b(?:the\s+)?(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|"
    r"fifth|5th|last(?!\s+(?:week|night|year|month|time|weekend|summer|winter|spring|fall|"
    r"christmas|minute)\b)|top(?!\s+(?:\d|two|three|five|ten)))"
    r"(?:\s+(?:one|pick|movie|film|suggestion|card))?\b|(?:#|number\s+|no\.?\s*)(?P<num>[1-9])\b",
    re.IGNORECASE)

# Eras. "recent" and "old" are relative to the catalog's newest year.
ERA_DECADE = re.compile(r"(?<![\d])(?:(?P<century>19|20)|')?(?P<digit>\d)0'?s\b", re.IGNORECASE)
DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950,
                "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990}
ERA_RECENT = re.compile(r"\b(recent|lately|newer|latest|modern|this year|last few years|"
                        r"nowadays|new (movies?|films?|releases?|ones|stuff)|(something|anything) new|"
                        r"newer)\b", re.IGNORECASE)
ERA_OLD = re.compile(r"\b(old(er)? (movies?|films?|classics?|stuff|ones)|classics?|oldies|"
                     r"vintage|golden age|black and white|old school)\b", re.IGNORECASE)
ERA_BEFORE = re.compile(r"\b(?:before|until|pre|prior to|older than)\s*-?\s*(?P<y>(?:19|20)\d\d)\b",
                        re.IGNORECASE)
ERA_AFTER = re.compile(r"\b(?:after|since|from|post|newer than|later than)\s*-?\s*"
                       r"(?P<y>(?:19|20)\d\d)\b(?!\s*\))", re.IGNORECASE)
ERA_BETWEEN = re.compile(r"\bbetween\s+(?P<a>(?:19|20)\d\d)\s+and\s+(?P<b>(?:19|20)\d\d)\b",
                         re.IGNORECASE)
RECENT_SPAN = 5
"""'Recent' means the catalog's last RECENT_SPAN years."""
OLD_BEFORE = 1980
"""'Old classics' means before this year."""

DUNNO = re.compile(r"^\W*(dunno|i don'?t know|idk|not sure|no idea|no preference|anything|"
                   r"whatever|doesn'?t matter|surprise me|any|either|no|nah|nope|none)\W*$",
                   re.IGNORECASE)
YES = re.compile(r"^\W*(yes|yeah|yep|yup|sure|ok(ay)?|definitely|absolutely|of course|"
                 r"please|yes please|sounds good)\W*$", re.IGNORECASE)

TOPIC_WORDS = frozenset({
    "space", "aliens", "robots", "time travel", "zombie", "zombies", "haunted", "ghost story",
    "superhero", "superheroes", "super hero", "heist", "heists", "gangster", "gangsters", "mafia",
    "mob", "detective", "martial arts", "kung fu", "dragons", "wizards", "magic", "cowboys",
    "cowboy", "dystopian", "cyberpunk", "world war", "military", "slasher", "vampires",
    "true story", "based on a true story", "murder mystery", "fairy tale", "sports", "singing",
    "date night", "pixar", "disney", "anime", "biopic", "period piece", "cops", "cop",
})
"""Lexicon keys that also name a topic: kept as retrieval keywords beside their genre."""

COMMON_WORDS = frozenset("""
a about above after again against all almost also always am an and any anyone anything are
around as at away back bad be because been before being best better between big both but by
call can come could day did do does doing done down each either else end enough even ever
every everything few find first for from fun get give go going gone good got great had has
have having he her here hers him his home how i if in into is it its just keep kind know last
late least less let life like little long look lot love made make many maybe me mean might
more most movie movies much must my need never new next nice night no none nor not nothing now
of off oh ok okay old on once one only or other our out over own people pick play please
pretty quite rather real really right said same say see seen she should show since so some
someone something sometimes soon sort still such sure take than thank thanks that the their
them then there these they thing things think this those though time to today together
tonight too top try turn two under up us very want was watch watched way we well went were
what when where which while who whole why will with without would yeah yes yet you your
film films hi hello hey thanks lol watch watching hear heard ones guess feel looking mood
kinda sorta gonna wanna stuff type types recommend recommendation suggest suggestions tell
great awesome cool fine true story war heat big her up it us home idea ideas tonight
actually thought already series lot lots maybe plus also wow omg ok okay hmm umm um well
favorite favourite favorites favourites enjoy enjoyed liked loved hate hated mind both
wait whatever anyway honestly seriously saw perfect despite although however unless whereas
besides
""".split())
"""Everyday words: a lower-case title made only of these is never read as a title."""

CALENDAR_WORDS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                            "sunday", "january", "february", "march", "april", "june", "july",
                            "august", "september", "october", "november", "december",
                            "easter", "thanksgiving", "valentine", "valentines"})
"""Capitalised by grammar, not because they name a film ("How was your Monday?")."""
