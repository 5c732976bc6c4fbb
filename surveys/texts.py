"""The default wording of each survey type, in every language the platform speaks.

A manager starts from these and edits them per survey. They are survey content (stored on the
survey), not UI strings, so they live here rather than in the gettext catalogs.
"""

from .models import Band, SurveyType

SCORE_QUESTION = {
    SurveyType.NPS: {
        "en": "How likely are you to recommend {company} to a friend or colleague?",
        "ru": "Насколько вероятно, что вы порекомендуете {company} другу или коллеге?",
        "lv": "Cik ticams ir, ka jūs ieteiktu {company} draugam vai kolēģim?",
    },
    SurveyType.CSAT: {
        "en": "How satisfied are you with {company}?",
        "ru": "Насколько вы довольны {company}?",
        "lv": "Cik apmierināts esat ar {company}?",
    },
    SurveyType.CES: {
        "en": "{company} made it easy for me to handle my issue.",
        "ru": "{company} позволила мне легко решить мой вопрос.",
        "lv": "{company} man ļāva viegli atrisināt manu jautājumu.",
    },
    SurveyType.CSI: {
        "en": "Please rate {company} on each of the following.",
        "ru": "Пожалуйста, оцените {company} по каждому из пунктов.",
        "lv": "Lūdzu, novērtējiet {company} katrā no šiem aspektiem.",
    },
}

FOLLOW_UP = {
    Band.DETRACTOR: {
        "en": "We are sorry to hear that. What is the main reason for your score?",
        "ru": "Нам жаль это слышать. Какова главная причина вашей оценки?",
        "lv": "Mums žēl to dzirdēt. Kāds ir galvenais jūsu vērtējuma iemesls?",
    },
    Band.PASSIVE: {
        "en": "Thank you. What could we do better to earn a higher score?",
        "ru": "Спасибо. Что нам сделать лучше, чтобы заслужить более высокую оценку?",
        "lv": "Paldies. Ko mēs varētu darīt labāk, lai nopelnītu augstāku vērtējumu?",
    },
    Band.PROMOTER: {
        "en": "Great to hear! What did you like most?",
        "ru": "Рады это слышать! Что вам понравилось больше всего?",
        "lv": "Prieks dzirdēt! Kas jums patika visvairāk?",
    },
}
# The other survey types use low / neutral / high with the same three tones.
FOLLOW_UP[Band.LOW] = FOLLOW_UP[Band.DETRACTOR]
FOLLOW_UP[Band.NEUTRAL] = FOLLOW_UP[Band.PASSIVE]
FOLLOW_UP[Band.HIGH] = FOLLOW_UP[Band.PROMOTER]

THANK_YOU = {
    "en": "Thank you! Your answer helps us get better.",
    "ru": "Спасибо! Ваш ответ помогает нам становиться лучше.",
    "lv": "Paldies! Jūsu atbilde palīdz mums kļūt labākiem.",
}

# Labels under the ends of each scale, so a respondent knows which end is good.
SCALE_ENDS = {
    SurveyType.NPS: {
        "en": ("Not at all likely", "Extremely likely"),
        "ru": ("Совсем маловероятно", "Очень вероятно"),
        "lv": ("Nemaz ne ticams", "Ļoti ticams"),
    },
    SurveyType.CSAT: {
        "en": ("Very dissatisfied", "Very satisfied"),
        "ru": ("Совсем не доволен", "Очень доволен"),
        "lv": ("Ļoti neapmierināts", "Ļoti apmierināts"),
    },
    SurveyType.CES: {
        "en": ("Strongly disagree", "Strongly agree"),
        "ru": ("Совершенно не согласен", "Полностью согласен"),
        "lv": ("Pilnīgi nepiekrītu", "Pilnīgi piekrītu"),
    },
    SurveyType.CSI: {
        "en": ("Very poor", "Excellent"),
        "ru": ("Очень плохо", "Отлично"),
        "lv": ("Ļoti slikti", "Izcili"),
    },
}

IMPORTANCE_QUESTION = {
    "en": "How important is this to you?",
    "ru": "Насколько это важно для вас?",
    "lv": "Cik tas jums ir svarīgi?",
}


def bands_of(survey_type) -> list[str]:
    if survey_type == SurveyType.NPS:
        return [Band.DETRACTOR, Band.PASSIVE, Band.PROMOTER]
    return [Band.LOW, Band.NEUTRAL, Band.HIGH]


def defaults_for(survey_type, company: str) -> dict:
    """Score question, follow-ups and thanks for a new survey of `survey_type`."""
    return {
        "score_question": {k: v.format(company=company) for k, v in SCORE_QUESTION[survey_type].items()},
        "follow_up": {band: dict(FOLLOW_UP[band]) for band in bands_of(survey_type)},
        "thank_you": dict(THANK_YOU),
    }
