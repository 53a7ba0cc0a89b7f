"""Words the synthetic world is written with: categories, hashtags, captions, names, sounds.

Small fixed tables; the world draws indices into them with numpy, so that names and
captions read like the platform's without any per-row Python.
"""

from __future__ import annotations

import hashlib

import numpy as np

#: seed 000's content categories (``unidentified`` is a classifier's answer, not a creator's)
CATEGORIES = (
    "comedy", "dance", "sports", "gaming", "educational", "vehicles",
    "beauty", "food", "pets", "technology", "music", "other",
)
CATEGORY_WEIGHTS = np.array([.16, .12, .08, .08, .07, .04, .09, .10, .09, .05, .08, .04])
#: the platform's numeric ``categoryType`` codes are undocumented; ours are stable made-up ones
CATEGORY_TYPE = {name: 100 + i for i, name in enumerate(CATEGORIES)}

CATEGORY_TAGS = {
    "comedy": ("funny", "comedy", "lol", "prank", "skit", "relatable", "memes"),
    "dance": ("dance", "dancechallenge", "choreography", "trend", "dancer", "tutorial"),
    "sports": ("football", "basketball", "gym", "fitness", "soccer", "workout", "skills"),
    "gaming": ("gaming", "fortnite", "minecraft", "gamer", "valorant", "speedrun"),
    "educational": ("learnontiktok", "edutok", "science", "history", "didyouknow", "facts"),
    "vehicles": ("cars", "carsoftiktok", "jdm", "motorcycle", "carcheck", "drift"),
    "beauty": ("makeup", "skincare", "grwm", "hair", "nails", "beautytips"),
    "food": ("food", "recipe", "cooking", "foodtok", "baking", "easyrecipe", "asmr"),
    "pets": ("dog", "cat", "pets", "puppy", "dogsoftiktok", "catsoftiktok", "cute"),
    "technology": ("tech", "iphone", "setup", "coding", "gadgets", "ai"),
    "music": ("music", "singing", "cover", "guitar", "piano", "newmusic", "producer"),
    "other": ("vlog", "dayinmylife", "travel", "story", "aesthetic", "life"),
}
GENERIC_TAGS = ("fyp", "foryou", "foryoupage", "viral", "trending", "xyzbca")

CATEGORY_PHRASES = {
    "comedy": ("when your mom finds the receipt", "pov: the group chat at 3am", "nobody: me:", "this happened today",
               "tell me you're tired without telling me", "wait for the end"),
    "dance": ("learned this in 10 minutes", "new dance just dropped", "tried the trend", "part 2 because you asked",
              "this song is stuck in my head", "tutorial in the comments"),
    "sports": ("leg day done", "that last shot though", "training never stops", "how to improve your first touch",
               "new personal record", "game day"),
    "gaming": ("the clutch of the year", "this bug is insane", "speedrun attempt 47", "rate my build",
               "no way this worked", "ranked grind continues"),
    "educational": ("things they never taught you in school", "the science behind this", "3 facts you didn't know",
                    "explained in 60 seconds", "history is wild", "save this for later"),
    "vehicles": ("cold start", "rate my ride 1-10", "first drive after the rebuild", "listen to that sound",
                 "car check", "sunday drive"),
    "beauty": ("get ready with me", "5 minute makeup", "my skincare routine", "this changed my hair",
               "trying the viral product", "nail inspo"),
    "food": ("easy dinner idea", "you need to try this", "3 ingredient dessert", "what i eat in a day",
             "crispy every time", "grandma's recipe"),
    "pets": ("he does this every morning", "my dog's reaction", "cat logic", "the zoomies",
             "who's a good boy", "she thinks she's human"),
    "technology": ("my desk setup", "hidden iphone feature", "built this in a weekend", "is it worth it",
                   "unboxing the new one", "tech tips you need"),
    "music": ("original song", "covering this classic", "wrote this last night", "acoustic version",
              "which version is better", "made this beat in 5 minutes"),
    "other": ("day in my life", "little things", "come with me", "storytime",
              "sunday reset", "a quiet morning"),
}

FIRST_NAMES = (
    "luna", "milo", "ava", "leo", "maya", "noah", "zoe", "kai", "ella", "finn", "ivy", "omar", "lea", "jonas",
    "sofia", "mateo", "nina", "arjun", "chloe", "yuki", "amara", "liam", "sara", "theo", "aisha", "max", "ines",
    "diego", "hana", "felix", "mia", "lucas", "ana", "tom", "rosa", "ben", "lina", "sam", "eli", "nora",
)
HANDLE_WORDS = (
    "bakes", "moves", "daily", "vibes", "official", "tv", "eats", "plays", "fit", "cars", "pets", "tech",
    "music", "life", "art", "films", "studio", "world", "zone", "hq", "lab", "club", "crew", "time",
    "kitchen", "garage", "beats", "looks", "talks", "travels",
)
HANDLE_SEPARATORS = ("", ".", "_", "")

SOUND_ADJECTIVES = (
    "neon", "golden", "midnight", "electric", "summer", "velvet", "lost", "wild", "broken", "silver",
    "paper", "crystal", "empty", "sunset", "cosmic", "lucky",
)
SOUND_NOUNS = (
    "heart", "drive", "dreams", "city", "lights", "waves", "echo", "fever", "rain", "motion", "signal",
    "garden", "ocean", "runaway", "paradise", "rhythm",
)
ARTISTS = (
    "Nova Rae", "The Parallels", "DJ Kestrel", "Mira Vale", "Oslo Nights", "Kid Atlas", "Juno & the Tides",
    "Sable", "Ruby Lane", "Echo Park Kids", "Marlow", "Twin Comets", "Lyra Moon", "Dusk Theory",
)


def stable_id(text: str, digits: int = 19) -> str:
    """A numeric id string derived from ``text`` (hashtag and sound ids), the same on every machine."""
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % (9 * 10 ** (digits - 1))
    return str(10 ** (digits - 1) + value)


def tag_table() -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Every hashtag as one array, the category each belongs to (-1 = generic), and a name → index map."""
    names: list[str] = list(GENERIC_TAGS)
    owners: list[int] = [-1] * len(GENERIC_TAGS)
    for index, category in enumerate(CATEGORIES):
        names.extend(CATEGORY_TAGS[category])
        owners.extend([index] * len(CATEGORY_TAGS[category]))
    return np.array(names, dtype=object), np.array(owners), {n: i for i, n in enumerate(names)}
