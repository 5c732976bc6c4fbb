"""The template library: surveys a CX manager starts from instead of an empty form.

Each template is a whole survey — its score question, pages, questions, logic, piping and, for the
churn survey, counter-offers — written in English, Russian and Latvian, so a copy can go live in
every language the platform speaks once the manager is happy with it. Like `surveys.texts`, this is
survey content stored on the survey, not UI text, so it lives here and not in the gettext catalogs.

`create_from_template` copies one into an organization as a draft (issue 17, docs/adr/0030).
"""

import copy
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from cxplatform.input_checks import text_problem
from cxplatform.models import Capability, Membership

from . import logic, piping, texts
from .models import Band, Question, RetentionOffer, Survey, SurveyType
from .services import localized


def _t(en: str, ru: str, lv: str) -> dict:
    return {"en": en, "ru": ru, "lv": lv}


def _option(value: str, en: str, ru: str, lv: str) -> dict:
    return {"value": value, "label": _t(en, ru, lv)}


def _when(field_name: str, op: str, value=None) -> dict:
    condition = {"field": field_name, "op": op}
    if value is not None:
        condition["value"] = value
    return condition


@dataclass(frozen=True)
class Template:
    slug: str
    survey_type: str
    name: dict  # per language, the default name of the survey made from it
    measures: dict  # per language: what it measures, in plain words, for the library's card
    title: dict
    # The score question with "{company}" for the organization's name; None: the type's default.
    score_question: dict | None
    pages: list  # Survey.pages: [{"title": …, "jumps": […]}, …], page 1 first
    questions: list  # Question field values, in the order asked
    offers: dict = field(default_factory=dict)  # question key → [(choice value, offer text per language)]
    thank_you: dict | None = None

    @property
    def languages(self) -> list[str]:
        return [code for code in ("en", "ru", "lv") if self.title.get(code)]

    def page_count(self) -> int:
        return max([len(self.pages), *[q.get("page", 1) for q in self.questions]])


# --- Post-purchase NPS ----------------------------------------------------------------------

POST_PURCHASE_NPS = Template(
    slug="post-purchase-nps",
    survey_type=SurveyType.NPS,
    name=_t("Post-purchase NPS", "NPS после покупки", "NPS pēc pirkuma"),
    measures=_t(
        "Whether buyers would recommend you, what they bought and where, and — from the unhappy ones only — "
        "what went wrong and how to put it right.",
        "Порекомендуют ли вас покупатели, что и где они купили, а у недовольных — что пошло не так "
        "и как это исправить.",
        "Vai pircēji jūs ieteiktu, ko un kur viņi nopirka, un — tikai neapmierinātajiem — kas nogāja greizi "
        "un kā to labot.",
    ),
    title=_t("Your recent purchase", "Ваша недавняя покупка", "Jūsu nesenais pirkums"),
    score_question=_t(
        "Now that you have your purchase, how likely are you to recommend {company} to a friend or colleague?",
        "Теперь, когда покупка у вас, насколько вероятно, что вы порекомендуете {company} другу или коллеге?",
        "Tagad, kad pirkums ir pie jums, cik ticams ir, ka jūs ieteiktu {company} draugam vai kolēģim?",
    ),
    pages=[
        # Only detractors see page 2; everyone else goes straight to the last page.
        {"jumps": [{"when": _when("band", "not_equals", "detractor"), "to": 3}]},
        {"title": _t("What went wrong", "Что пошло не так", "Kas nogāja greizi"), "jumps": []},
        {"title": _t("One last thing", "И последнее", "Pēdējais jautājums"), "jumps": []},
    ],
    questions=[
        {"key": "product", "kind": Question.Kind.SINGLE_CHOICE, "page": 1, "required": True,
         "text": _t("What did you buy?", "Что вы купили?", "Ko jūs iegādājāties?"),
         "choices": [
             _option("product", "A new product", "Новый товар", "Jauna prece"),
             _option("accessory", "An accessory or spare part", "Аксессуар или запчасть",
                     "Piederums vai rezerves daļa"),
             _option("service", "A service or repair", "Услуга или ремонт", "Pakalpojums vai remonts"),
             _option("gift_card", "A gift card", "Подарочная карта", "Dāvanu karte"),
         ]},
        {"key": "bought_via", "kind": Question.Kind.SINGLE_CHOICE, "page": 1,
         "text": _t("Where did you buy it?", "Где вы совершили покупку?", "Kur jūs to iegādājāties?"),
         "choices": [
             _option("online", "Online shop", "Интернет-магазин", "Interneta veikals"),
             _option("store", "In a store", "В магазине", "Veikalā"),
             _option("phone", "By phone", "По телефону", "Pa tālruni"),
         ]},
        {"key": "reason", "kind": Question.Kind.SINGLE_CHOICE, "page": 2, "allow_other": True,
         "text": _t("Your purchase: {{answer.product|our product}}. What disappointed you most?",
                    "Ваша покупка: {{answer.product|наш товар}}. Что вас больше всего разочаровало?",
                    "Jūsu pirkums: {{answer.product|mūsu prece}}. Kas jūs visvairāk vīlis?"),
         "choices": [
             _option("quality", "Product quality", "Качество товара", "Preces kvalitāte"),
             _option("price", "Price", "Цена", "Cena"),
             _option("delivery", "Delivery", "Доставка", "Piegāde"),
             _option("not_as_described", "It was not as described", "Не соответствует описанию",
                     "Neatbilst aprakstam"),
             _option("staff", "Service from our staff", "Обслуживание персоналом", "Personāla apkalpošana"),
         ]},
        {"key": "make_right", "kind": Question.Kind.TEXT, "page": 2,
         "text": _t("What could we do to make it right?", "Что мы можем сделать, чтобы исправить ситуацию?",
                    "Ko mēs varētu darīt, lai to labotu?")},
        {"key": "callback", "kind": Question.Kind.YES_NO, "page": 2,
         "text": _t("May we call you to sort this out?", "Можно нам позвонить вам, чтобы во всём разобраться?",
                    "Vai drīkstam jums piezvanīt, lai to atrisinātu?")},
        {"key": "ease", "kind": Question.Kind.RATING, "page": 3, "scale_min": 1, "scale_max": 5,
         "text": _t("How easy was it to buy from us? (1 — very hard, 5 — very easy)",
                    "Насколько легко было совершить у нас покупку? (1 — очень трудно, 5 — очень легко)",
                    "Cik viegli bija iepirkties pie mums? (1 — ļoti grūti, 5 — ļoti viegli)")},
        {"key": "tell_a_friend", "kind": Question.Kind.TEXT, "page": 3,
         "show_if": _when("band", "equals", "promoter"),
         "text": _t("Glad you like it! What would you tell a friend about it?",
                    "Рады, что вам нравится! Что бы вы рассказали о покупке другу?",
                    "Priecājamies, ka jums patīk! Ko jūs par to pastāstītu draugam?")},
    ],
)


# --- Support CSAT ---------------------------------------------------------------------------

SUPPORT_CSAT = Template(
    slug="support-csat",
    survey_type=SurveyType.CSAT,
    name=_t("Support satisfaction (CSAT)", "Удовлетворённость поддержкой (CSAT)",
            "Apmierinātība ar atbalstu (CSAT)"),
    measures=_t(
        "How satisfied customers are after contacting support, through which channel, whether the issue is "
        "really resolved, and how much effort it took.",
        "Насколько клиенты довольны после обращения в поддержку, через какой канал они обращались, "
        "решён ли вопрос на самом деле и сколько усилий это потребовало.",
        "Cik apmierināti ir klienti pēc saziņas ar atbalsta dienestu, kurā kanālā viņi sazinājās, vai "
        "jautājums tiešām ir atrisināts un cik daudz pūļu tas prasīja.",
    ),
    title=_t("Your contact with our support", "Ваше обращение в поддержку", "Jūsu saziņa ar atbalsta dienestu"),
    score_question=_t(
        "How satisfied are you with the help you received from {company}?",
        "Насколько вы довольны помощью, которую получили от {company}?",
        "Cik apmierināts esat ar palīdzību, ko saņēmāt no {company}?",
    ),
    pages=[
        {"jumps": []},
        {"title": _t("Your experience", "Ваш опыт", "Jūsu pieredze"), "jumps": []},
    ],
    questions=[
        {"key": "contact_channel", "kind": Question.Kind.SINGLE_CHOICE, "page": 1, "required": True,
         "text": _t("How did you contact us?", "Как вы с нами связались?", "Kā jūs ar mums sazinājāties?"),
         "choices": [
             _option("phone", "By phone", "По телефону", "Pa tālruni"),
             _option("email", "By e-mail", "По электронной почте", "Pa e-pastu"),
             _option("chat", "In the online chat", "В онлайн-чате", "Tiešsaistes tērzēšanā"),
             _option("store", "In a store", "В магазине", "Veikalā"),
             _option("social", "On social media", "В соцсетях", "Sociālajos tīklos"),
         ]},
        {"key": "resolved", "kind": Question.Kind.YES_NO, "page": 1, "required": True,
         "text": _t("Is your issue resolved?", "Ваш вопрос решён?", "Vai jūsu jautājums ir atrisināts?")},
        {"key": "effort", "kind": Question.Kind.RATING, "page": 2, "scale_min": 1, "scale_max": 7,
         "text": _t("{{answer.contact_channel|With our support}}: how easy was it to get your issue handled? "
                    "(1 — very hard, 7 — very easy)",
                    "{{answer.contact_channel|В поддержке}}: насколько легко было решить ваш вопрос? "
                    "(1 — очень трудно, 7 — очень легко)",
                    "{{answer.contact_channel|Atbalsta dienestā}}: cik viegli bija atrisināt jūsu jautājumu? "
                    "(1 — ļoti grūti, 7 — ļoti viegli)")},
        {"key": "still_open", "kind": Question.Kind.TEXT, "page": 2,
         "show_if": _when("answer.resolved", "equals", "no"),
         "text": _t("What is still open? We will get back to you about it.",
                    "Что осталось нерешённым? Мы вернёмся к вам с ответом.",
                    "Kas vēl nav atrisināts? Mēs ar jums sazināsimies.")},
        {"key": "do_differently", "kind": Question.Kind.TEXT, "page": 2,
         "show_if": _when("band", "equals", "low"),
         "text": _t("What should we have done differently?", "Что нам следовало сделать иначе?",
                    "Ko mums vajadzēja darīt citādi?")},
    ],
)


# --- Repair CES -----------------------------------------------------------------------------

REPAIR_CES = Template(
    slug="repair-ces",
    survey_type=SurveyType.CES,
    name=_t("Repair effort (CES)", "Усилия при ремонте (CES)", "Piepūle remontā (CES)"),
    measures=_t(
        "How easy a repair was for the customer, how often they had to chase you, and which step of the "
        "repair — booking, updates, time, quality, price — made it hard.",
        "Насколько легко клиенту дался ремонт, сколько раз ему пришлось вам напоминать и какой этап — "
        "запись, информирование, сроки, качество, цена — сделал его трудным.",
        "Cik viegls klientam bija remonts, cik reizes viņam nācās jums atgādināt un kurš posms — "
        "pieteikšanās, informēšana, ilgums, kvalitāte, cena — to apgrūtināja.",
    ),
    title=_t("Your repair", "Ваш ремонт", "Jūsu remonts"),
    score_question=_t(
        "{company} made it easy for me to get my repair done.",
        "{company} позволила мне легко решить вопрос с ремонтом.",
        "{company} man ļāva viegli nokārtot remontu.",
    ),
    pages=[
        {"jumps": []},
        # Those who found it easy are done after rating the steps; the others get one more question.
        {"title": _t("The repair step by step", "Ремонт по шагам", "Remonts pa soļiem"),
         "jumps": [{"when": _when("band", "equals", "high"), "to": "end"}]},
        {"title": _t("Making it easier", "Как сделать проще", "Kā padarīt vieglāk"), "jumps": []},
    ],
    questions=[
        {"key": "repair_type", "kind": Question.Kind.SINGLE_CHOICE, "page": 1, "required": True,
         "allow_other": True,
         "text": _t("What did we repair?", "Что мы ремонтировали?", "Ko mēs remontējām?"),
         "choices": [
             _option("battery", "Battery or charging", "Батарея или зарядка", "Akumulators vai uzlāde"),
             _option("electronics", "Screen or electronics", "Экран или электроника", "Ekrāns vai elektronika"),
             _option("mechanical", "A mechanical part", "Механическая часть", "Mehāniska daļa"),
             _option("software", "Software", "Программное обеспечение", "Programmatūra"),
             _option("maintenance", "Scheduled maintenance", "Плановое обслуживание", "Plānotā apkope"),
         ]},
        {"key": "contacts", "kind": Question.Kind.RATING, "page": 1, "required": True, "scale_min": 1,
         "scale_max": 5,
         "text": _t("How many times did you have to contact us about this repair? (5 — five or more)",
                    "Сколько раз вам пришлось связываться с нами по поводу этого ремонта? (5 — пять и более)",
                    "Cik reizes jums nācās sazināties ar mums par šo remontu? (5 — piecas vai vairāk)")},
        {"key": "contacts_why", "kind": Question.Kind.TEXT, "page": 1,
         "show_if": _when("answer.contacts", "gte", 3),
         "text": _t("Times you contacted us: {{answer.contacts}}. What made so many contacts necessary?",
                    "Число обращений: {{answer.contacts}}. Почему понадобилось столько обращений?",
                    "Saziņas reižu skaits: {{answer.contacts}}. Kāpēc bija vajadzīgas tik daudzas reizes?")},
        {"key": "steps", "kind": Question.Kind.MATRIX, "page": 2, "scale_min": 1, "scale_max": 5,
         "text": _t("How would you rate each step of the repair? (1 — very poor, 5 — excellent)",
                    "Как вы оцениваете каждый этап ремонта? (1 — очень плохо, 5 — отлично)",
                    "Kā jūs vērtējat katru remonta posmu? (1 — ļoti slikti, 5 — izcili)"),
         "rows": [
             _option("booking", "Booking the repair", "Запись на ремонт", "Pieteikšanās remontam"),
             _option("updates", "Updates on progress", "Информирование о ходе ремонта",
                     "Informācija par remonta gaitu"),
             _option("time", "Time to repair", "Срок ремонта", "Remonta ilgums"),
             _option("quality", "Quality of the repair", "Качество ремонта", "Remonta kvalitāte"),
             _option("price", "Price", "Стоимость", "Cena"),
         ]},
        {"key": "easier", "kind": Question.Kind.TEXT, "page": 3,
         "text": _t("What one thing would have made the repair easier for you?",
                    "Что в первую очередь сделало бы ремонт проще для вас?",
                    "Kas pirmām kārtām būtu padarījis remontu jums vieglāku?")},
    ],
)


# --- CSI ------------------------------------------------------------------------------------

CSI = Template(
    slug="csi",
    survey_type=SurveyType.CSI,
    name=_t("Customer satisfaction index (CSI)", "Индекс удовлетворённости клиентов (CSI)",
            "Klientu apmierinātības indekss (CSI)"),
    measures=_t(
        "One index from 0 to 100 over what matters to your customers — quality, value, staff, speed, "
        "ordering — weighted by how important each is to them, with an optional grid for store visits.",
        "Единый индекс от 0 до 100 по тому, что важно клиентам, — качеству, цене, персоналу, скорости, "
        "заказу — с учётом важности каждого пункта и необязательной таблицей для визита в магазин.",
        "Viens indekss no 0 līdz 100 par to, kas klientiem svarīgs, — kvalitāti, cenu, personālu, ātrumu, "
        "pasūtīšanu — ņemot vērā katra punkta svarīgumu, ar neobligātu tabulu veikala apmeklējumam.",
    ),
    title=_t("How are we doing?", "Как мы работаем?", "Kā mums veicas?"),
    score_question=None,
    pages=[
        # Those who did not visit a store skip its page.
        {"jumps": [{"when": _when("answer.visited_store", "not_equals", "yes"), "to": 3}]},
        {"title": _t("Your store visit", "Ваш визит в магазин", "Jūsu veikala apmeklējums"), "jumps": []},
        {"title": _t("What to improve", "Что улучшить", "Ko uzlabot"), "jumps": []},
    ],
    questions=[
        *[{"key": key, "kind": Question.Kind.CSI_ATTRIBUTE, "page": 1, "required": True, "ask_importance": True,
           "text": text}
          for key, text in (
              ("quality", _t("Quality of our products", "Качество наших товаров", "Mūsu preču kvalitāte")),
              ("value", _t("Value for money", "Соотношение цены и качества", "Cenas un kvalitātes attiecība")),
              ("staff", _t("Friendliness and expertise of our staff", "Вежливость и компетентность сотрудников",
                           "Darbinieku laipnība un kompetence")),
              ("speed", _t("Speed of service", "Скорость обслуживания", "Apkalpošanas ātrums")),
              ("ordering", _t("Ease of ordering", "Удобство оформления заказа", "Pasūtīšanas ērtums")),
          )],
        {"key": "visited_store", "kind": Question.Kind.YES_NO, "page": 1,
         "text": _t("Have you visited one of our stores in the last three months?",
                    "Посещали ли вы наш магазин за последние три месяца?",
                    "Vai pēdējo trīs mēnešu laikā esat apmeklējis kādu no mūsu veikaliem?")},
        {"key": "store", "kind": Question.Kind.MATRIX, "page": 2, "scale_min": 1, "scale_max": 5,
         "text": _t("How would you rate the store you visited? (1 — very poor, 5 — excellent)",
                    "Как вы оцениваете магазин, в котором побывали? (1 — очень плохо, 5 — отлично)",
                    "Kā jūs vērtējat apmeklēto veikalu? (1 — ļoti slikti, 5 — izcili)"),
         "rows": [
             _option("welcome", "Welcome and attention", "Приветствие и внимание", "Sagaidīšana un uzmanība"),
             _option("availability", "Products in stock", "Наличие товаров", "Preču pieejamība"),
             _option("waiting", "Waiting time", "Время ожидания", "Gaidīšanas laiks"),
             _option("tidiness", "Tidiness", "Чистота и порядок", "Tīrība un kārtība"),
         ]},
        {"key": "quality_why", "kind": Question.Kind.TEXT, "page": 3,
         "show_if": _when("answer.quality", "lte", 2),
         "text": _t("You rated the quality of our products {{answer.quality}} out of 5. What went wrong?",
                    "Вы оценили качество наших товаров на {{answer.quality}} из 5. Что было не так?",
                    "Jūs novērtējāt mūsu preču kvalitāti ar {{answer.quality}} no 5. Kas nebija kārtībā?")},
        {"key": "improve", "kind": Question.Kind.TEXT, "page": 3,
         "text": _t("If we could improve one thing for you, what should it be?",
                    "Если бы мы могли улучшить для вас что-то одно, что бы это было?",
                    "Ja mēs varētu jums uzlabot vienu lietu, kas tai būtu jābūt?")},
    ],
)


# --- Churn reasons with counter-offers ------------------------------------------------------

CHURN_REASONS = Template(
    slug="churn-reasons",
    survey_type=SurveyType.CSAT,
    name=_t("Churn reasons", "Причины ухода", "Aiziešanas iemesli"),
    measures=_t(
        "Why customers cancel, in their own words per reason, with a counter-offer for each reason shown "
        "on the spot — and whether they would come back.",
        "Почему клиенты уходят, своими словами по каждой причине, с ответным предложением для каждой "
        "причины прямо на месте — и вернулись бы они.",
        "Kāpēc klienti aiziet, ar viņu pašu vārdiem par katru iemeslu, ar pretpiedāvājumu katram iemeslam "
        "uzreiz — un vai viņi atgrieztos.",
    ),
    title=_t("Sorry to see you go", "Жаль, что вы уходите", "Žēl, ka aizejat"),
    score_question=_t(
        "Overall, how satisfied were you with {company}?",
        "Насколько в целом вы были довольны {company}?",
        "Cik kopumā bijāt apmierināts ar {company}?",
    ),
    pages=[
        {"jumps": []},
        {"title": _t("Help us understand", "Помогите нам понять", "Palīdziet mums saprast"), "jumps": []},
    ],
    questions=[
        {"key": "reason", "kind": Question.Kind.SINGLE_CHOICE, "page": 1, "required": True, "allow_other": True,
         "text": _t("What is the main reason you are leaving?", "Какова главная причина вашего ухода?",
                    "Kāds ir galvenais iemesls, kāpēc aizejat?"),
         "choices": [
             _option("price", "It costs too much", "Слишком дорого", "Pārāk dārgi"),
             _option("not_using", "I hardly use it", "Почти не пользуюсь", "Gandrīz neizmantoju"),
             _option("quality", "Problems with the product", "Проблемы с товаром", "Problēmas ar preci"),
             _option("service", "Disappointing customer service", "Разочаровало обслуживание",
                     "Vīlos klientu apkalpošanā"),
             _option("competitor", "I found a better offer elsewhere", "Нашёл предложение получше",
                     "Atradu labāku piedāvājumu citur"),
             _option("moving", "I am moving away", "Я переезжаю", "Es pārceļos"),
         ]},
        {"key": "competitor_offer", "kind": Question.Kind.TEXT, "page": 2,
         "show_if": _when("answer.reason", "equals", "competitor"),
         "text": _t("Which offer did you choose, and what made it better?",
                    "Какое предложение вы выбрали и чем оно лучше?",
                    "Kuru piedāvājumu izvēlējāties, un ar ko tas ir labāks?")},
        {"key": "what_went_wrong", "kind": Question.Kind.TEXT, "page": 2,
         "show_if": _when("answer.reason", "in", ["quality", "service"]),
         "text": _t("You chose: “{{answer.reason}}”. What went wrong? Tell us, and we will look into it.",
                    "Вы выбрали: «{{answer.reason}}». Что пошло не так? Расскажите, и мы разберёмся.",
                    "Jūs izvēlējāties: “{{answer.reason}}”. Kas nogāja greizi? Pastāstiet, un mēs to izpētīsim.")},
        {"key": "come_back", "kind": Question.Kind.YES_NO, "page": 2,
         "text": _t("Would you consider coming back in the future?",
                    "Рассмотрите ли вы возможность вернуться в будущем?",
                    "Vai nākotnē apsvērtu iespēju atgriezties?")},
    ],
    offers={"reason": [
        ("price", _t("Stay with us for 20% less for the next three months.",
                     "Оставайтесь с нами: следующие три месяца на 20% дешевле.",
                     "Palieciet ar mums: nākamos trīs mēnešus par 20% lētāk.")),
        ("not_using", _t("Pause instead of cancelling: keep your account free of charge for up to three months.",
                         "Приостановите вместо отмены: ваш аккаунт сохранится бесплатно до трёх месяцев.",
                         "Apturiet, nevis atceliet: jūsu konts bez maksas saglabāsies līdz trim mēnešiem.")),
        ("quality", _t("A free check-up, and a repair or replacement if anything is wrong.",
                       "Бесплатная проверка, а если что-то не так — ремонт или замена.",
                       "Bezmaksas pārbaude, un, ja kaut kas nav kārtībā, — remonts vai nomaiņa.")),
        ("service", _t("A personal manager who calls you back within one working day.",
                       "Персональный менеджер, который перезвонит вам в течение одного рабочего дня.",
                       "Personīgais menedžeris, kas jums atzvanīs vienas darba dienas laikā.")),
        ("competitor", _t("Show us the offer you got: we will do our best to match it.",
                          "Покажите нам полученное предложение: мы постараемся предложить не хуже.",
                          "Parādiet mums saņemto piedāvājumu: mēs darīsim visu, lai piedāvātu ne sliktāk.")),
        ("moving", _t("Moving within the country? Change your address and keep everything as it is.",
                      "Переезжаете в пределах страны? Смените адрес, и всё останется как было.",
                      "Pārceļaties valsts robežās? Nomainiet adresi, un viss paliks kā bijis.")),
    ]},
)


TEMPLATES: dict[str, Template] = {t.slug: t for t in (POST_PURCHASE_NPS, SUPPORT_CSAT, REPAIR_CES, CSI,
                                                      CHURN_REASONS)}


class TemplateRefused(ValueError):
    """A copy that cannot be made as asked; the message says why, in the reader's language."""


class UnknownTemplate(TemplateRefused):
    """No template has that name."""


def get(slug: str) -> Template:
    try:
        return TEMPLATES[slug]
    except (KeyError, TypeError):
        raise UnknownTemplate(_("There is no such survey template. Choose one from the library.")) from None


def _name_for(organization, spec: Template, name: str | None) -> str:
    """The name asked for, else the template's in the organization's language; a name the
    organization already uses gets a number, so two copies can be told apart in the list."""
    problem = text_problem(name or "")
    if problem:
        raise TemplateRefused(problem)
    wanted = (name or "").strip()[:200] or localized(spec.name, organization.default_language)
    taken = set(Survey.objects.for_org(organization).filter(name__startswith=wanted[:180])
                .values_list("name", flat=True))
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted[:180]} ({n})" in taken:
        n += 1
    return f"{wanted[:180]} ({n})"


@transaction.atomic
def create_from_template(*, organization, template: str, name: str | None = None, user=None) -> Survey:
    """A draft survey of `organization` copied from the template named `template`, with its
    questions and counter-offers, all or nothing. A `user` must be allowed to design surveys there
    (PermissionDenied otherwise); TemplateRefused for a template the library does not have
    (UnknownTemplate) or a name that cannot be stored."""
    spec = get(template)
    if user is not None:
        membership = Membership.objects.filter(user=user, organization=organization, is_active=True).first()
        if membership is None or not membership.can(Capability.DESIGN):
            raise PermissionDenied
    defaults = texts.defaults_for(spec.survey_type, organization.name)
    score_question = ({code: text.format(company=organization.name) for code, text in spec.score_question.items()}
                      if spec.score_question else defaults["score_question"])
    survey = Survey.objects.create(
        organization=organization, name=_name_for(organization, spec, name), survey_type=spec.survey_type,
        status=Survey.Status.DRAFT, default_language=organization.default_language,
        title=copy.deepcopy(spec.title), score_question=score_question, follow_up=defaults["follow_up"],
        thank_you=copy.deepcopy(spec.thank_you or defaults["thank_you"]), pages=copy.deepcopy(spec.pages),
    )
    questions = Question.objects.bulk_create([
        Question(organization=organization, survey=survey, position=position,
                 **{"page": 1, **copy.deepcopy(values)})
        for position, values in enumerate(spec.questions, start=1)
    ])
    by_key = {q.key: q for q in questions}
    RetentionOffer.objects.bulk_create([
        RetentionOffer(organization=organization, question=by_key[key], reason=reason, text=dict(text),
                       position=position)
        for key, offers in spec.offers.items()
        for position, (reason, text) in enumerate(offers)
    ])
    return survey



# --- The library page's cards ---------------------------------------------------------------

def _shown_value(value, target: dict | None, language: str) -> str:
    values = value if isinstance(value, list) else [value]
    labels = {c["value"]: localized(c["label"], language) for c in (target or {}).get("choices", [])}
    labels[Question.OTHER] = _("Other")
    bands = dict(Band.choices)
    return ", ".join(str(labels.get(v) or bands.get(v) or v) for v in values)


def describe(condition: dict, spec: Template, language: str) -> str:
    """A condition in words for the card ("the score band is not Detractor")."""
    if not condition:
        return ""
    for group, joiner in (("all", _(" and ")), ("any", _(" or "))):
        if group in condition:
            return joiner.join(describe(part, spec, language) for part in condition[group])
    if "not" in condition:
        return _("not (%(condition)s)") % {"condition": describe(condition["not"], spec, language)}
    name, op = condition.get("field", ""), condition.get("op")
    by_key = {q["key"]: q for q in spec.questions}
    target = None
    if name.startswith("answer."):
        target = by_key.get(name[len("answer."):])
        subject = _("the answer to “%(key)s”") % {"key": name[len("answer."):]}
    else:
        subject = {"band": _("the score band"), "score": _("the score")}.get(name, name)
    if op == "answered":
        return _("%(subject)s is given") % {"subject": subject}
    if op == "not_answered":
        return _("%(subject)s is not given") % {"subject": subject}
    verbs = {"equals": _("%(subject)s is %(value)s"), "not_equals": _("%(subject)s is not %(value)s"),
             "in": _("%(subject)s is one of %(value)s"), "not_in": _("%(subject)s is none of %(value)s"),
             "includes": _("%(subject)s includes %(value)s"), "lt": _("%(subject)s is below %(value)s"),
             "lte": _("%(subject)s is at most %(value)s"), "gt": _("%(subject)s is above %(value)s"),
             "gte": _("%(subject)s is at least %(value)s")}
    value = condition.get("value")
    if target is not None and target["kind"] == Question.Kind.YES_NO:
        value = {"yes": _("Yes"), "no": _("No")}.get(value, value)
    return verbs.get(op, "%(subject)s") % {"subject": subject, "value": _shown_value(value, target, language)}


def catalogue(language: str) -> list[dict]:
    """Every template as the library page shows it, in `language`: what it measures, how many
    questions on how many pages, its languages, and a preview of each page with its logic."""
    kinds = dict(Question.Kind.choices)
    cards = []
    for spec in TEMPLATES.values():
        pages = []
        for number in range(1, spec.page_count() + 1):
            page = spec.pages[number - 1] if number <= len(spec.pages) else {}
            questions = [{
                "text": piping.named(localized(q["text"], language)),
                "kind": kinds[q["kind"]],
                "required": q.get("required", False),
                "options": [localized(c["label"], language) for c in q.get("choices", []) + q.get("rows", [])]
                + ([_("Other")] if q.get("allow_other") else []),
                "only_if": describe(q.get("show_if") or {}, spec, language),
            } for q in spec.questions if q.get("page", 1) == number]
            jumps = [{"when": describe(jump["when"], spec, language),
                      "to": _("the end") if jump["to"] == logic.END else _("page %(number)d") % {"number": jump["to"]}}
                     for jump in page.get("jumps", [])]
            pages.append({"number": number, "title": localized(page.get("title"), language),
                          "questions": questions, "jumps": jumps})
        score = spec.score_question or texts.SCORE_QUESTION[spec.survey_type]
        cards.append({
            "slug": spec.slug,
            "name": localized(spec.name, language),
            "measures": localized(spec.measures, language),
            "survey_type": SurveyType(spec.survey_type).label,
            "score_question": ("" if spec.survey_type == SurveyType.CSI
                               else localized(score, language).replace("{company}", _("[your company]"))),
            "question_count": len(spec.questions) + (0 if spec.survey_type == SurveyType.CSI else 1),
            "page_count": spec.page_count(),
            "languages": spec.languages,
            "offer_count": sum(len(offers) for offers in spec.offers.values()),
            "pages": pages,
        })
    return cards
