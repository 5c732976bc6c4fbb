"""The default wording of an invitation in every language the platform speaks: a new campaign or
trigger rule starts from it, and `manage.py invite` sends it when no message is given. Message
content (stored on the campaign), not UI strings, like surveys/texts.py."""

SUBJECT = {
    "en": "{organization}: a quick question",
    "ru": "{organization}: один короткий вопрос",
    "lv": "{organization}: viens īss jautājums",
}
BODY = {
    "en": "Hello {name},\n\nThank you for choosing {organization}. It takes a few seconds to tell us how it went: "
          "click a score below.",
    "ru": "Здравствуйте, {name}!\n\nСпасибо, что выбрали {organization}. Расскажите, как всё прошло, — это займёт "
          "несколько секунд: нажмите на оценку ниже.",
    "lv": "Labdien, {name}!\n\nPaldies, ka izvēlējāties {organization}. Pastāstiet, kā viss noritēja, — tas aizņems "
          "dažas sekundes: noklikšķiniet uz vērtējuma zemāk.",
}
SMS_BODY = {
    "en": "{organization}: how did it go? Tell us in a few seconds:",
    "ru": "{organization}: как всё прошло? Ответьте за несколько секунд:",
    "lv": "{organization}: kā veicās? Atbildiet dažās sekundēs:",
}


def defaults(*, medium: str = "email", languages: list[str] | None = None) -> tuple[dict, dict]:
    """(subject, body) per language, for `languages` (all three by default)."""
    codes = languages or list(SUBJECT)
    if medium == "sms":
        return {}, {code: SMS_BODY[code] for code in codes if code in SMS_BODY}
    return ({code: SUBJECT[code] for code in codes if code in SUBJECT},
            {code: BODY[code] for code in codes if code in BODY})
