"""Which of our languages a comment is written in. The survey's language is only a hint: a
Russian speaker answers an English survey in Russian, a Latvian types without diacritics."""

import re

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN = re.compile(r"[a-zāčēģīķļņšūž]", re.IGNORECASE)
LATVIAN_LETTERS = re.compile(r"[āčēģīķļņšūž]", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# Frequent short words that give a language away even without diacritics.
LATVIAN_WORDS = {
    "un", "ir", "ar", "bet", "nav", "ka", "kas", "par", "uz", "no", "man", "mums", "loti", "ļoti", "labi", "slikti",
    "paldies", "vai", "jo", "ko", "es", "tas", "bija", "viss", "visu", "nekas", "jau", "vel", "vēl", "tikai",
    "kurjers", "piegade", "piegāde", "atbalsts", "lidz", "līdz", "ari", "arī", "nu", "ta", "tā", "te", "kad",
}
ENGLISH_WORDS = {
    "the", "and", "is", "was", "it", "to", "of", "a", "i", "my", "you", "for", "not", "with", "but", "this",
    "that", "very", "good", "bad", "great", "app", "support", "delivery", "thanks", "thank", "would", "have",
    "had", "be", "are", "so", "no", "on", "in", "at", "were", "they", "we", "me", "your", "just", "all",
}


def detect(text: str, hint: str = "") -> str:
    """"ru", "lv" or "en"; the `hint` (the survey's language) wins a tie."""
    cyrillic, latin = len(CYRILLIC.findall(text)), len(LATIN.findall(text))
    if cyrillic > latin:
        return "ru"
    if latin == 0:
        return hint if hint in ("ru", "lv", "en") else "en"
    if LATVIAN_LETTERS.search(text):
        return "lv"
    words = [w.lower() for w in WORD.findall(text)]
    lv = sum(w in LATVIAN_WORDS for w in words)
    en = sum(w in ENGLISH_WORDS for w in words)
    if lv > en:
        return "lv"
    if en > lv:
        return "en"
    return hint if hint in ("lv", "en") else "en"
