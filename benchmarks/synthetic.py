"""Synthetic catalogs and queries for `convrec bench tools`: power-law ratings, people, genres."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.progress import progress, stage

if TYPE_CHECKING:  # the CLI imports the bench modules to build its parser: keep that light
    import numpy as np

    from catalog.models import Catalog, Interactions, Item, Triple
    from tools.base import ProfileInputs

INTERACTIONS_PER_ITEM = 20
MAX_INTERACTIONS = 5_000_000
"""Cap on ratings so a 1M-item catalog (and its CF model) builds in minutes, not hours."""
USERS_PER_ITEM = 0.1
PEOPLE_PER_ITEM = 1 / 50
ACTORS_PER_ITEM = 2
GENRES = ("drama", "comedy", "thriller", "action", "romance", "adventure", "crime", "sci-fi",
          "horror", "children", "fantasy", "mystery", "animation", "war", "musical",
          "documentary", "western", "film-noir")
ADJECTIVES = ("Silent", "Broken", "Golden", "Last", "Hidden", "Electric", "Distant", "Crimson",
              "Endless", "Little", "Wild", "Frozen", "Secret", "Lonely", "Burning", "Midnight")
NOUNS = ("Harbor", "Empire", "Garden", "River", "Signal", "Frontier", "Machine", "Kingdom",
         "Witness", "Summer", "Station", "Promise", "Storm", "Island", "Mirror", "Road")
HEROES = ("detective", "teacher", "pilot", "young thief", "retired boxer", "scientist",
          "farmer", "journalist", "soldier", "musician", "nurse", "con artist")
GOALS = ("find a missing sister", "win back an old love", "stop a bank robbery",
         "survive a winter in the mountains", "uncover a family secret", "save the town",
         "escape a haunted house", "cross the desert", "solve a murder", "build a rocket")
FIRST_NAMES = ("Ada", "Bruno", "Clara", "Dev", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
               "Kira", "Luca", "Mina", "Nils", "Olga", "Pablo", "Rosa", "Sami", "Tara", "Ugo")
LAST_NAMES = ("Moreno", "Lind", "Vega", "Okafor", "Novak", "Sato", "Berg", "Costa", "Haas",
              "Ivanov", "Jensen", "Kowalski", "Laurent", "Mendes", "Nakamura", "Olsen", "Park",
              "Quinn", "Rossi", "Silva")


@dataclass
class Synthetic:
    """A synthetic catalog plus what the queries are drawn from."""

    catalog: Catalog
    item_ids: list[str]
    popularity: np.ndarray
    n_users: int
    n_people: int


@dataclass
class Query:
    """One benchmark query: the profile every tool gets and a vector standing in for its text."""

    profile: ProfileInputs
    vector: np.ndarray


def power_law(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Probabilities over n things proportional to 1 / (rank + 5)^exponent, ranks shuffled."""
    import numpy as np

    weights = 1.0 / (np.arange(n, dtype=np.float64) + 5.0) ** exponent
    weights = weights[rng.permutation(n)]
    probabilities: np.ndarray = weights / weights.sum()
    return probabilities


def person_name(n: int) -> str:
    """A distinct, human-looking name for person number n."""
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
    round_ = n // (len(FIRST_NAMES) * len(LAST_NAMES))
    return f"{first} {last}" + (f" {round_ + 1}" if round_ else "")


def synthetic_items(n_items: int, rng: np.random.Generator, show: bool) -> list[Item]:
    """Items with titles, 1-3 genres from GENRES (skewed like real catalogs), years, a plot."""
    import numpy as np

    from catalog.models import Item

    genre_p = 1.0 / (np.arange(len(GENRES)) + 1.0) ** 0.8
    genre_draws = rng.choice(len(GENRES), size=(n_items, 3), p=genre_p / genre_p.sum())
    n_genres = rng.choice([1, 2, 3], size=n_items, p=[0.4, 0.4, 0.2])
    years = rng.integers(1930, 2025, size=n_items)
    words = rng.integers(0, 1 << 30, size=(n_items, 4))
    items: list[Item] = []
    for n in progress(range(n_items), n_items, "synthetic items", show):
        adj, noun, hero, goal = words[n]
        genres = list(dict.fromkeys(GENRES[g] for g in genre_draws[n, : n_genres[n]]))
        items.append(Item(
            id=f"syn{n}", title=f"The {ADJECTIVES[adj % len(ADJECTIVES)]} {NOUNS[noun % len(NOUNS)]}",
            year=int(years[n]), genres=genres,
            text=f"A {HEROES[hero % len(HEROES)]} must {GOALS[goal % len(GOALS)]}.",
        ))
    return items


def synthetic_triples(item_ids: list[str], n_people: int, rng: np.random.Generator,
                      show: bool) -> list[Triple]:
    """One director and ACTORS_PER_ITEM actors per item among n_people (a few are prolific)."""
    from catalog.models import Triple

    person_p = power_law(n_people, 0.8, rng)
    cast = rng.choice(n_people, size=(len(item_ids), 1 + ACTORS_PER_ITEM), p=person_p)
    names = [f"person:{person_name(p)}" for p in range(n_people)]
    triples: list[Triple] = []
    for n in progress(range(len(item_ids)), len(item_ids), "synthetic triples", show):
        head = f"item:{item_ids[n]}"
        triples.append(Triple(head=head, relation="director", tail=names[cast[n, 0]]))
        for actor in dict.fromkeys(cast[n, 1:].tolist()):
            triples.append(Triple(head=head, relation="actor", tail=names[actor]))
    return triples


def synthetic_interactions(item_ids: list[str], popularity: np.ndarray, n_users: int,
                           rng: np.random.Generator) -> Interactions:
    """Ratings: items drawn by power-law popularity, users uniformly; a pair drawn twice counts once."""
    import numpy as np

    from catalog.models import Interactions

    n_items = len(item_ids)
    n_draws = min(INTERACTIONS_PER_ITEM * n_items, MAX_INTERACTIONS)
    items = rng.choice(n_items, size=n_draws, p=popularity)
    users = rng.integers(0, n_users, size=n_draws)
    pairs = np.unique(users.astype(np.int64) * n_items + items)
    users, items = pairs // n_items, pairs % n_items
    ratings = rng.choice(np.array([1, 2, 3, 4, 5], dtype=np.float32), size=pairs.size,
                         p=[0.05, 0.1, 0.2, 0.35, 0.3])
    order = rng.permutation(pairs.size)  # not sorted by user, like a real ratings file
    user_names = np.array([f"u{u}" for u in range(n_users)], dtype=object)
    return Interactions(user_names[users[order]], np.array(item_ids, dtype=object)[items[order]],
                        ratings[order])


def synthetic_catalog(n_items: int, seed: int = 0, show: bool = False) -> Synthetic:
    """A catalog of n_items with power-law ratings and director/actor/genre KG edges.

    INTERACTIONS_PER_ITEM rating draws per item (at most MAX_INTERACTIONS in all) by
    n_items / 10 users, repeated (user, item) pairs kept once (about 16 per item remain at 10k
    items); n_items / 50 people. Genres are item metadata, which the knowledge graph
    turns into `genre` edges; directors and actors are catalog triples.
    """
    import numpy as np

    from catalog.models import Catalog

    rng = np.random.default_rng([seed, n_items])
    items = synthetic_items(n_items, rng, show)
    item_ids = [item.id for item in items]
    popularity = power_law(n_items, 1.0, rng)
    n_users = max(int(n_items * USERS_PER_ITEM), 10)
    n_people = max(int(n_items * PEOPLE_PER_ITEM), 10)
    stage(f"{n_items} items: ratings and triples", show)
    interactions = synthetic_interactions(item_ids, popularity, n_users, rng)
    triples = synthetic_triples(item_ids, n_people, rng, show)
    catalog = Catalog(name=f"synthetic-{n_items}", items={i.id: i for i in items},
                      interactions=interactions, triples=triples)
    return Synthetic(catalog, item_ids, popularity, n_users, n_people)


def unit_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """n random unit vectors of the embedder's dimension (float32)."""
    import numpy as np

    from tools.engines.embeddings import DIMENSIONS

    vectors = rng.standard_normal((n, DIMENSIONS), dtype=np.float32)
    unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def make_queries(syn: Synthetic, n: int, rng: np.random.Generator) -> list[Query]:
    """Profiles of 1-5 liked items (drawn by popularity), a genre entity and a wish text.

    Texts are distinct (numbered), so the retrieval tool's per-text cache never answers.
    """
    from tools.base import ProfileInputs

    vectors = unit_vectors(n, rng)
    queries: list[Query] = []
    for q in range(n):
        picks = rng.choice(len(syn.item_ids), size=int(rng.integers(1, 6)), replace=False,
                           p=syn.popularity)
        liked = [syn.item_ids[i] for i in picks]
        genre = GENRES[int(rng.integers(len(GENRES)))]
        first = syn.catalog.items[liked[0]]
        text = (f"a {genre} about a {HEROES[q % len(HEROES)]} who has to "
                f"{GOALS[int(rng.integers(len(GOALS)))]}, like {first.display_title} (#{q})")
        profile = ProfileInputs(free_text=text, liked_items=liked, entities=[f"genre:{genre}"])
        queries.append(Query(profile, vectors[q]))
    return queries
