"""VoltRide's surveys at its touchpoints, with a year of realistic answers in Russian, English and
Latvian: delivery hurts, test rides delight, the app improves after a spring release."""

import uuid
from datetime import timedelta

from django.utils import timezone

from cxplatform.models import OutboxEvent
from journeys.models import Touchpoint

from . import comments, library, logic, revisions
from .models import (
    Answer,
    ContactPolicy,
    Distribution,
    DistributionDay,
    OfferAcceptance,
    Question,
    Response,
    RetentionOffer,
    Survey,
    SurveyType,
)
from .services import RESPONSE_RECORDED, band_for, clean_submission, record_response, save_survey, visit_facts

COMMENTS = {
    "low": {
        "ru": ["Курьер опоздал на два дня и не позвонил.", "Самокат пришёл с царапиной на деке.",
               "Батарея держит гораздо меньше, чем обещали.", "Долго ждал ответа поддержки.",
               "Приложение не видит самокат, пришлось переустанавливать.", "Ремонт занял почти месяц."],
        "en": ["The courier was two days late and never called.", "Battery range is far below what was advertised.",
               "Support kept me on hold for 40 minutes.", "The app would not pair with my scooter.",
               "Repair took almost a month, no updates.", "Scooter arrived with a scratched deck."],
        "lv": ["Kurjers kavēja divas dienas.", "Akumulators tur daudz mazāk nekā solīts.",
               "Remonts ilga gandrīz mēnesi."],
    },
    "mid": {
        "ru": ["В целом нормально, но доставку можно ускорить.", "Хороший самокат, но инструкция непонятная.",
               "Цена высоковата.", "Всё ок, но приложение иногда тормозит."],
        "en": ["Fine overall, but delivery could be faster.", "Good scooter, the manual is confusing.",
               "A bit pricey for what you get.", "OK, but the app is slow sometimes."],
        "lv": ["Kopumā labi, bet piegāde varētu būt ātrāka.", "Cena ir nedaudz par augstu."],
    },
    "high": {
        "ru": ["Отличный самокат, езжу каждый день!", "Консультант в шоуруме всё подробно объяснил.",
               "Быстрая доставка и вежливый курьер.", "Поддержка решила вопрос за пять минут."],
        "en": ["Love it, I ride to work every day!", "The showroom staff explained everything, great test ride.",
               "Fast delivery and a friendly courier.", "Support solved my issue in five minutes."],
        "lv": ["Lielisks skrejritenis, braucu katru dienu!", "Ātra piegāde un laipns kurjers."],
    },
}

SURVEYS = [
    # name, type, [(link name, touchpoint, channel, mean score on the type's scale, yearly trend)]
    ("Post-purchase NPS", SurveyType.NPS, [
        ("Home delivery e-mail", "Home delivery", "E-mail", 6.2, 1.5),
        ("Checkout thank-you page", "Online checkout", "Website", 7.8, 0.3),
        ("Showroom QR poster", "Test ride", "Showroom", 8.9, 0.0),
    ]),
    ("Support satisfaction (CSAT)", SurveyType.CSAT, [
        ("After support call SMS", "Support call", "Call centre", 3.7, 0.4),
    ]),
    ("Repair effort (CES)", SurveyType.CES, [
        ("Repair pick-up e-mail", "Service repair", "E-mail", 4.3, 0.8),
    ]),
    ("App experience (CSI)", SurveyType.CSI, [
        ("In-app prompt", "App onboarding", "VoltRide app", 3.5, 0.7),
    ]),
]

CSI_ATTRIBUTES = [
    ("pairing", {"en": "Pairing the scooter", "ru": "Подключение самоката", "lv": "Skrejriteņa savienošana"}),
    ("ride_tracking", {"en": "Ride tracking", "ru": "Отслеживание поездок", "lv": "Braucienu uzskaite"}),
    ("battery_info", {"en": "Battery information", "ru": "Информация о батарее", "lv": "Akumulatora informācija"}),
]

MODEL_CHOICES = [
    {"value": "city", "label": {"en": "VR City", "ru": "VR City", "lv": "VR City"}},
    {"value": "pro", "label": {"en": "VR Pro", "ru": "VR Pro", "lv": "VR Pro"}},
    {"value": "cargo", "label": {"en": "VR Cargo", "ru": "VR Cargo", "lv": "VR Cargo"}},
]

RESPONSES_PER_LINK = 700


def _questions(survey):
    if survey.survey_type == SurveyType.CSI:
        for i, (key, text) in enumerate(CSI_ATTRIBUTES, 1):
            Question.objects.get_or_create(
                survey=survey, key=key,
                defaults={"organization": survey.organization, "kind": Question.Kind.CSI_ATTRIBUTE,
                          "position": i, "text": text, "ask_importance": True},
            )
    elif survey.survey_type == SurveyType.NPS:
        Question.objects.get_or_create(
            survey=survey, key="model",
            defaults={"organization": survey.organization, "kind": Question.Kind.SINGLE_CHOICE, "position": 1,
                      "text": {"en": "Which scooter did you buy?", "ru": "Какой самокат вы купили?",
                               "lv": "Kuru skrejriteni jūs iegādājāties?"},
                      "choices": MODEL_CHOICES},
        )


# How strongly a customer's overall mood shows in each touchpoint's and attribute's scores: the
# demo's key drivers (support and pairing the scooter move NPS; ride tracking hardly does).
MOOD_WEIGHT = {"Home delivery": 0.9, "Support call": 1.0, "Service repair": 0.5, "App onboarding": 0.4,
               "pairing": 1.0, "ride_tracking": 0.15, "battery_info": 0.5}


def _score(rng, survey_type, mean, trend, age_fraction, mood=0.0):
    low, high = {SurveyType.NPS: (0, 10), SurveyType.CSAT: (1, 5), SurveyType.CES: (1, 7)}.get(survey_type, (1, 5))
    spread = (high - low) / 4.5
    # Older answers sit lower by `trend`: the team's fixes show as a rising line.
    centre = mean - trend * age_fraction + mood * spread
    return max(low, min(high, round(rng.gauss(centre, spread))))


def _tone(survey_type, score):
    band = band_for(survey_type, score)
    return {"detractor": "low", "low": "low", "passive": "mid", "neutral": "mid"}.get(band, "high")


def load(demo):
    org, rng = demo.organization, demo.rng
    ContactPolicy.objects.get_or_create(organization=org, defaults={"min_days_between_surveys": 30})
    now = timezone.now()
    customers = demo.customers
    moods = {c.pk: rng.gauss(0, 0.9) for c in customers}  # some customers are happier everywhere
    for name, survey_type, link_specs in SURVEYS:
        survey = Survey.objects.filter(organization=org, name=name).first()
        if survey is None:
            survey = Survey(organization=org, name=name, survey_type=survey_type, status=Survey.Status.ACTIVE,
                            default_language="ru")
            title = {"en": "VoltRide wants your opinion", "ru": "VoltRide хочет знать ваше мнение",
                     "lv": "VoltRide vēlas zināt jūsu viedokli"}
            save_survey(survey, {"title": title}, fill_defaults=True)
        _questions(survey)
        if not survey.revisions.exists():  # live, as the team made it so: its builder shows revision 1
            revisions.publish(survey=survey, user=demo.users.get("manager"))
            survey.refresh_from_db()
        questions = list(survey.questions.all())
        for link_name, touchpoint, channel, mean, trend in link_specs:
            distribution, _ = Distribution.objects.get_or_create(
                organization=org, survey=survey, name=link_name,
                defaults={"touchpoint": demo.touchpoints[touchpoint], "channel": demo.channels[channel]},
            )
            if not distribution.responses.exists():
                _responses(demo, survey, distribution, questions, mean, trend, now, customers, rng, moods)
    _cancellation_survey(demo, now)
    _multi_page_survey(demo, now)
    demo.surveys = list(Survey.objects.filter(organization=org))


# The retention playbook: subscribers who cancel are asked why, and offered something instead.
CANCEL_REASONS = [
    ("price", {"en": "It costs too much", "ru": "Слишком дорого", "lv": "Pārāk dārgi"},
     {"en": "Stay for 20% less for the next three months.", "ru": "Оставайтесь: следующие три месяца на 20% дешевле.",
      "lv": "Palieciet: nākamos trīs mēnešus par 20% lētāk."}),
    ("not_using", {"en": "I hardly ride it", "ru": "Почти не пользуюсь", "lv": "Gandrīz nebraucu"},
     {"en": "Pause your subscription for up to three months instead of cancelling.",
      "ru": "Приостановите подписку до трёх месяцев вместо отмены.",
      "lv": "Apturiet abonementu līdz trim mēnešiem, nevis atceliet to."}),
    ("battery", {"en": "The battery does not last", "ru": "Батарея не держит", "lv": "Akumulators neiztur"},
     {"en": "A free battery check, and a new battery if it is below spec.",
      "ru": "Бесплатная проверка батареи и замена, если она хуже заявленной.",
      "lv": "Bezmaksas akumulatora pārbaude un maiņa, ja tas neatbilst solītajam."}),
    ("moving", {"en": "I am moving away", "ru": "Я переезжаю", "lv": "Es pārceļos"},
     {"en": "We deliver in all of Latvia: change the address and keep riding.",
      "ru": "Мы доставляем по всей Латвии: смените адрес и катайтесь дальше.",
      "lv": "Piegādājam visā Latvijā: nomainiet adresi un brauciet tālāk."}),
]


def _cancellation_survey(demo, now):
    """A CSAT survey sent when a subscriber cancels, with a reason question whose answers carry
    counter-offers; two months of answers and the offers some customers took."""
    import random

    org = demo.organization
    if Survey.objects.filter(organization=org, name="Cancellation survey").exists():
        return
    rng = random.Random(f"{org.slug}:cancellation")  # noqa: S311 — demo data, its own stream  # nosec B311
    survey = Survey(organization=org, name="Cancellation survey", survey_type=SurveyType.CSAT,
                    status=Survey.Status.ACTIVE, default_language="lv")
    save_survey(survey, {"title": {"en": "Sorry to see you go", "ru": "Жаль, что вы уходите",
                                   "lv": "Žēl, ka aizejat"}}, fill_defaults=True)
    reason = Question.objects.create(
        organization=org, survey=survey, kind=Question.Kind.SINGLE_CHOICE, key="reason", position=1, required=True,
        text={"en": "Why are you cancelling?", "ru": "Почему вы отменяете подписку?",
              "lv": "Kāpēc jūs atceļat abonementu?"},
        choices=[{"value": value, "label": label} for value, label, _offer in CANCEL_REASONS])
    offers = {value: RetentionOffer.objects.create(organization=org, question=reason, reason=value, text=offer)
              for value, _label, offer in CANCEL_REASONS}
    revisions.publish(survey=survey, user=demo.users.get("manager"))
    survey.refresh_from_db()
    touchpoint, _created = Touchpoint.objects.get_or_create(
        organization=org, name="Subscription cancellation",
        defaults={"channel": demo.channels.get("E-mail"), "description": "A subscriber cancels online or by phone."})
    link = Distribution.objects.create(organization=org, survey=survey, name="Cancellation e-mail",
                                       touchpoint=touchpoint, channel=demo.channels.get("E-mail"))
    subscribers = [c for c in demo.customers if (c.attributes or {}).get("plan") == "subscription"] or demo.customers
    responses, answers, taken = [], [], []
    for _i in range(60):
        started = now - timedelta(days=rng.random() * 60)
        customer = rng.choice(subscribers)
        value = rng.choices([r[0] for r in CANCEL_REASONS], weights=[35, 30, 20, 15])[0]
        response = Response(organization=org, survey=survey, distribution=link, channel=link.channel,
                            touchpoint=touchpoint,
                            customer=customer, token=uuid.uuid4(), language=customer.language or "lv",
                            started_at=started, submitted_at=started + timedelta(seconds=40),
                            status=Response.Status.COMPLETED, source=Response.Source.WEB,
                            score=rng.choice([1, 2, 2, 3, 3, 4]))
        response.band = band_for(survey.survey_type, response.score)
        responses.append(response)
        answers.append(Answer(response=response, question=reason, choices=[value]))
        if rng.random() < {"price": 0.3, "not_using": 0.45, "battery": 0.4, "moving": 0.15}[value]:
            taken.append(OfferAcceptance(organization=org, offer=offers[value], response=response))
    Response.objects.bulk_create(responses)
    Answer.objects.bulk_create(answers)
    OfferAcceptance.objects.bulk_create(taken)


def _responses(demo, survey, distribution, questions, mean, trend, now, customers, rng, moods):
    responses, answers = [], []
    for _i in range(RESPONSES_PER_LINK):
        age_days = rng.random() * 365
        started = now - timedelta(days=age_days, minutes=rng.randint(0, 600))
        language = rng.choices(["ru", "en", "lv"], weights=[48, 37, 15])[0]
        customer = rng.choice(customers) if rng.random() < 0.8 else None
        mood = moods[customer.pk] if customer else 0.0
        completed = rng.random() < 0.93
        response = Response(
            organization=demo.organization, survey=survey, distribution=distribution,
            touchpoint=distribution.touchpoint, channel=distribution.channel, customer=customer,
            token=uuid.uuid4(), language=language, started_at=started,
            submitted_at=started + timedelta(seconds=rng.randint(15, 120)) if completed else None,
            # Past answers left unfinished were long since abandoned: they count as their last state.
            status=Response.Status.COMPLETED if completed else Response.Status.ABANDONED,
            source=rng.choice([Response.Source.WEB, Response.Source.ONE_CLICK]),
            hidden_fields={"order_id": f"A-{rng.randint(10000, 99999)}"},
        )
        attribute_scores = []
        if survey.survey_type == SurveyType.CSI:
            for q in questions:
                number = _score(rng, SurveyType.CSAT, mean, trend, age_days / 365, mood * MOOD_WEIGHT.get(q.key, 0.5))
                attribute_scores.append(number)
                answers.append((response, Answer(question=q, number=number, importance=rng.randint(2, 5))))
            mean_score = sum(attribute_scores) / len(attribute_scores)
            response.band = band_for(survey.survey_type, mean_score)
            tone = "low" if mean_score < 2.5 else "mid" if mean_score < 3.5 else "high"
        else:
            weight = 1.0 if survey.survey_type == SurveyType.NPS else MOOD_WEIGHT.get(distribution.touchpoint.name, 0.5)
            response.score = _score(rng, survey.survey_type, mean, trend, age_days / 365, mood * weight)
            response.band = band_for(survey.survey_type, response.score)
            tone = _tone(survey.survey_type, response.score)
            for q in questions:
                answers.append((response, Answer(question=q, choices=[rng.choice(q.choice_values)])))
        if completed and rng.random() < 0.55:
            pool = COMMENTS[tone][language]
            response.comment = rng.choice(pool)
            comments.read_sentiment(response)
        responses.append(response)
    Response.objects.bulk_create(responses, batch_size=1000)
    comments.store_new_themes(responses)
    # Link openings for the funnel: about one in three openers answers.
    per_day = {}
    for response in responses:
        day = response.started_at.date()
        per_day[day] = per_day.get(day, 0) + 1
    DistributionDay.objects.bulk_create([
        DistributionDay(distribution=distribution, day=day, opened=n * 3 + rng.randint(0, 2))
        for day, n in per_day.items()
    ])
    for response, answer in answers:
        answer.response = response
    Answer.objects.bulk_create([a for _r, a in answers], batch_size=2000)


# --- The multi-page survey with logic ----------------------------------------------------------
# Made from the library's post-purchase template, published, and answered through the same door as
# a customer's answer (clean_submission + record_response), each respondent shown only the pages
# and questions the survey's logic gives them: detractors explain on page 2, promoters say what
# they would tell a friend. By model: the Pro delights, the City is fine, the Cargo disappoints.

MULTI_PAGE_SURVEY = "Scooter purchase follow-up"
MULTI_PAGE_RESPONSES = 320
MODEL_VALUES = {"VR City": "city", "VR Pro": "pro", "VR Cargo": "cargo"}
MODEL_NPS = {"city": 7.4, "pro": 8.9, "cargo": 5.4}  # mean score, a year ago rising by the trend
MODEL_REASONS = {  # what disappoints the detractors of each model
    "city": ([("price", 40), ("not_as_described", 30), ("delivery", 20), ("quality", 10)]),
    "pro": ([("delivery", 45), ("staff", 30), ("price", 25)]),
    "cargo": ([("quality", 55), ("delivery", 25), ("not_as_described", 20)]),
}
MAKE_RIGHT = {
    "quality": {"en": ["Replace the battery, it loses half its range with a load.", "Fix the squeaking brakes."],
                "ru": ["Замените батарею: с грузом она теряет половину запаса хода.", "Почините скрипящие тормоза."],
                "lv": ["Nomainiet akumulatoru: ar kravu tas zaudē pusi nobraukuma."]},
    "price": {"en": ["A discount on the next service would be fair."],
              "ru": ["Было бы честно дать скидку на следующее обслуживание."],
              "lv": ["Atlaide nākamajai apkopei būtu godīga."]},
    "delivery": {"en": ["Call before you come and keep the promised day."],
                 "ru": ["Звоните заранее и привозите в обещанный день."],
                 "lv": ["Piezvaniet iepriekš un atvediet solītajā dienā."]},
    "not_as_described": {"en": ["Show the real range on the website, not the best case."],
                         "ru": ["Указывайте на сайте реальный запас хода, а не идеальный."],
                         "lv": ["Norādiet mājaslapā reālo nobraukumu, nevis labāko gadījumu."]},
    "staff": {"en": ["Someone should explain the app at delivery."],
              "ru": ["Пусть при доставке кто-нибудь объяснит приложение."],
              "lv": ["Lai piegādes laikā kāds izskaidro lietotni."]},
}
TELL_A_FRIEND = {
    "en": ["Fast, light and the battery really lasts.", "Best money I spent this year.",
           "Great for the daily commute."],
    "ru": ["Быстрый, лёгкий, и батарея правда держит.", "Лучшая покупка за год.", "Отлично для поездок на работу."],
    "lv": ["Ātrs, viegls, un akumulators tiešām iztur.", "Labākais pirkums šogad."],
}


def _multi_page_survey(demo, now):
    import random

    org = demo.organization
    if Survey.objects.filter(organization=org, name=MULTI_PAGE_SURVEY).exists():
        return
    rng = random.Random(f"{org.slug}:multi-page")  # noqa: S311 — demo data, its own stream  # nosec B311
    survey = library.create_from_template(organization=org, template="post-purchase-nps", name=MULTI_PAGE_SURVEY)
    product = survey.questions.get(key="product")
    product.text = {"en": "Which scooter did you buy?", "ru": "Какой самокат вы купили?",
                    "lv": "Kuru skrejriteni jūs iegādājāties?"}
    product.choices = MODEL_CHOICES
    product.save()
    revisions.publish(survey=survey, user=demo.users.get("manager"))
    survey.refresh_from_db()
    touchpoint = demo.touchpoints["Home delivery"]
    link = Distribution.objects.create(organization=org, survey=survey, name="Two weeks after delivery (e-mail)",
                                       touchpoint=touchpoint, channel=demo.channels.get("E-mail"))
    plan = logic.plan_of(survey)
    per_day, recorded = {}, []
    for _i in range(MULTI_PAGE_RESPONSES):
        age_days = rng.random() * 365
        submitted = now - timedelta(days=age_days, minutes=rng.randint(0, 600))
        customer = rng.choice(demo.customers) if rng.random() < 0.85 else None
        language = (customer.language if customer and customer.language else
                    rng.choices(["ru", "en", "lv"], weights=[48, 37, 15])[0])
        data = _respondent(rng, customer, language, 1 - age_days / 365)
        facts = logic.Facts(score=int(data["score"]), band=band_for(survey.survey_type, int(data["score"])),
                            language=language, answers={k: v for k, v in data.items() if k not in ("score", "comment")})
        # The respondent sees only what the logic shows them, so only that is sent.
        shown = logic.evaluate(plan, facts).visible
        data = {k: v for k, v in data.items() if k in ("score", "comment") or k in shown}
        submission = clean_submission(survey, data, complete=True, language=language,
                                      facts=visit_facts(survey=survey, language=language,
                                                        touchpoint=touchpoint.pk, customer=customer))
        response, _created = record_response(
            survey=survey, submission=submission, complete=True, language=language, distribution=link,
            token=uuid.uuid4(), customer=customer, submitted_at=submitted,
            hidden={"order_id": f"A-{rng.randint(10000, 99999)}"})
        recorded.append(response)
        per_day[submitted.date()] = per_day.get(submitted.date(), 0) + 1
    _as_history(org, recorded)
    DistributionDay.objects.bulk_create([
        DistributionDay(distribution=link, day=day, opened=n * 3 + rng.randint(0, 2)) for day, n in per_day.items()
    ])


def _respondent(rng, customer, language, recency):
    """What one buyer would answer on every page of the post-purchase survey (form field names);
    `recency` 0 a year ago … 1 today, as fixes to the Cargo slowly lift its scores."""
    model = MODEL_VALUES.get((customer.attributes or {}).get("model")) if customer else None
    model = model or rng.choices(["city", "pro", "cargo"], weights=[50, 30, 20])[0]
    mean = MODEL_NPS[model] + (1.2 * recency if model == "cargo" else 0.3 * recency)
    score = max(0, min(10, round(rng.gauss(mean, 2.0))))
    data = {"score": str(score), "product": model,
            "bought_via": rng.choices(["online", "store", "phone"],
                                      weights=[30, 60, 10] if model == "pro" else [65, 25, 10])[0],
            "ease": str(max(1, min(5, round(rng.gauss(2 + score / 4, 0.8)))))}
    reasons, weights = zip(*MODEL_REASONS[model], strict=True)
    reason = rng.choices(reasons, weights=weights)[0]
    data["reason"] = reason
    if rng.random() < 0.6:
        data["make_right"] = rng.choice(MAKE_RIGHT[reason].get(language) or MAKE_RIGHT[reason]["en"])
    data["callback"] = "yes" if rng.random() < 0.55 else "no"
    if rng.random() < 0.5:
        data["tell_a_friend"] = rng.choice(TELL_A_FRIEND[language])
    if rng.random() < 0.5:
        data["comment"] = rng.choice(COMMENTS[_tone(SurveyType.NPS, score)][language])
    return data


def _as_history(org, responses):
    """These answers are a year of history, not live traffic: like the demo's other answers, what
    their events would set off is made at once by each app's demo (sentiment and themes here, inbox
    items and cases in feedback's, rollups in metrics'), so their outbox rows are dropped rather than
    delivered one by one after the demo commits (that tripled the demo's run time)."""
    OutboxEvent.objects.filter(organization=org, name__in=[RESPONSE_RECORDED, comments.COMMENT_WRITTEN],
                               payload__response_id__in=[r.pk for r in responses]).delete()
    with_comment = [r for r in responses if r.comment]
    for response in with_comment:
        comments.read_sentiment(response)
        response.comment_read = True
    Response.objects.bulk_update(with_comment, ["sentiment", "sentiment_score", "comment_read"])
    comments.store_new_themes(with_comment)
