"""A survey's responses: filters, the link funnel, the detail page, and CSV / XLSX exports."""

import csv
import io
import uuid
from datetime import UTC, datetime

import openpyxl
import pytest
from django.conf import settings

from cxplatform.models import Role
from surveys import exporting, selectors, services
from surveys.models import Question
from tests import factories

pytestmark = pytest.mark.django_db

INJECTIONS = ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)"]


def answer(survey, data, *, complete=True, language="en", distribution=None, at=None, **extra):
    """A response recorded the way the survey page records one."""
    submission = services.clean_submission(survey, data, complete=complete, language=language)
    response, _created = services.record_response(
        survey=survey, submission=submission, complete=complete, language=language, distribution=distribution,
        token=uuid.uuid4(), submitted_at=at, **extra,
    )
    return response


def day(d, hour=12):
    return datetime(2025, 3, d, hour, tzinfo=UTC)


@pytest.fixture
def viewer(org_a, make_member, client_for):
    # Reading responses is for any member: the most limited role proves it.
    return client_for(make_member(org_a, Role.VIEWER))


@pytest.fixture
def nps(org_a):
    """An NPS survey answered at two links (different touchpoints and channels)."""
    survey = factories.survey(org_a, "nps")
    link1 = factories.distribution(org_a, survey, channel=factories.channel(org_a))
    link2 = factories.distribution(org_a, survey, channel=factories.channel(org_a))
    detractor = answer(survey, {"score": "2", "comment": "Slow delivery"}, distribution=link1, at=day(1))
    promoter = answer(survey, {"score": "9"}, language="ru", distribution=link2, at=day(10))
    started = answer(survey, {"score": "8"}, complete=False, language="lv", distribution=link1, at=day(20))
    return {"survey": survey, "link1": link1, "link2": link2,
            "detractor": detractor, "promoter": promoter, "started": started}


def listed(client, survey, query=""):
    page = client.get(f"/surveys/{survey.pk}/responses/{query}")
    assert page.status_code == 200
    return {r.pk for r in page.context["page"].object_list}


# --- Filters --------------------------------------------------------------------------------

def test_without_filters_every_response_is_listed_completed_or_not(viewer, nps):
    page = viewer.get(f"/surveys/{nps['survey'].pk}/responses/")
    assert {r.pk for r in page.context["page"].object_list} == {
        nps["detractor"].pk, nps["promoter"].pk, nps["started"].pk}
    body = page.content.decode()
    assert "3 responses" in body
    assert f"/surveys/{nps['survey'].pk}/responses/{nps['detractor'].pk}/" in body
    assert "Slow delivery" in body


def test_each_filter_narrows_the_list(viewer, nps):
    s, d, p, st = nps["survey"], nps["detractor"].pk, nps["promoter"].pk, nps["started"].pk
    tp1, tp2 = nps["link1"].touchpoint_id, nps["link2"].touchpoint_id
    ch1, ch2 = nps["link1"].channel_id, nps["link2"].channel_id
    assert listed(viewer, s, "?band=detractor") == {d}
    assert listed(viewer, s, "?band=promoter") == {p}
    assert listed(viewer, s, "?band=passive") == {st}
    assert listed(viewer, s, f"?touchpoint={tp2}") == {p}
    assert listed(viewer, s, f"?touchpoint={tp1}") == {d, st}
    assert listed(viewer, s, f"?channel={ch1}") == {d, st}
    assert listed(viewer, s, f"?channel={ch2}") == {p}
    assert listed(viewer, s, "?language=ru") == {p}
    assert listed(viewer, s, "?language=lv") == {st}
    assert listed(viewer, s, "?has_comment=yes") == {d}
    assert listed(viewer, s, "?has_comment=no") == {p, st}
    assert listed(viewer, s, "?status=started") == {st}
    assert listed(viewer, s, "?status=completed") == {d, p}
    assert listed(viewer, s, "?band=detractor&language=ru") == set()


def test_period_includes_both_days_and_dates_started_responses_by_their_start(viewer, nps):
    s, d, p, st = nps["survey"], nps["detractor"].pk, nps["promoter"].pk, nps["started"].pk
    assert listed(viewer, s, "?from=2025-03-01&to=2025-03-01") == {d}  # the end day is included
    assert listed(viewer, s, "?from=2025-03-02&to=2025-03-09") == set()
    assert listed(viewer, s, "?from=2025-03-02") == {p, st}  # not submitted: dated by when it started
    assert listed(viewer, s, "?to=2025-03-10") == {d, p}
    assert listed(viewer, s, "?from=2025-03-20&to=2025-03-20") == {st}
    assert listed(viewer, s, "?to=9999-12-31") == {d, p, st}  # the last possible day is no error


def test_selector_applies_the_same_filters_and_stays_in_the_organization(org_a, org_b, nps):
    assert {r.pk for r in selectors.responses(org_a, nps["survey"], {"band": "detractor"})} == {nps["detractor"].pk}
    assert not selectors.responses(org_b, nps["survey"]).exists()


def test_invalid_filters_give_form_errors_not_a_server_error(viewer, nps, org_b):
    s = nps["survey"]
    foreign_touchpoint = factories.touchpoint(org_b)
    page = viewer.get(f"/surveys/{s.pk}/responses/", {
        "band": "nonsense", "touchpoint": foreign_touchpoint.pk, "channel": "abc", "from": "2025-13-45",
        "has_comment": "maybe", "language": "xx", "status": "deleted",
    })
    assert page.status_code == 200
    assert page.context["page"] is None
    form = page.context["form"]
    assert set(form.errors) == {"band", "touchpoint", "channel", "from", "has_comment", "language", "status"}
    body = page.content.decode()
    assert "Select a valid choice" in body and "Enter a valid date." in body
    assert "Please correct the filters above" in body
    assert foreign_touchpoint.name not in body  # another organization's touchpoints are not offered

    reversed_period = viewer.get(f"/surveys/{s.pk}/responses/?from=2025-03-10&to=2025-03-01")
    assert reversed_period.status_code == 200
    assert "must not be after its end" in reversed_period.content.decode()

    # A band of another survey type is no band of this survey.
    assert "band" in viewer.get(f"/surveys/{s.pk}/responses/?band=high").context["form"].errors


def test_invalid_filters_on_an_export_give_the_form_errors(viewer, nps):
    export = viewer.get(f"/surveys/{nps['survey'].pk}/responses/export.csv?from=tomorrow")
    assert export.status_code == 400
    assert "Enter a valid date." in export.content.decode()


def test_touchpoint_and_channel_choices_are_the_organizations_own(viewer, nps, org_a, org_b):
    ours, theirs = factories.touchpoint(org_a), factories.touchpoint(org_b)
    form = viewer.get(f"/surveys/{nps['survey'].pk}/responses/").context["form"]
    touchpoints = set(form.fields["touchpoint"].queryset)
    channels = set(form.fields["channel"].queryset)
    assert ours in touchpoints and theirs not in touchpoints
    assert ours.channel in channels and theirs.channel not in channels


def test_pages_of_fifty_keep_the_filters(viewer, org_a):
    link = factories.distribution(org_a)
    for _n in range(51):
        factories.response(org_a, link, score=3, band="detractor")
    factories.response(org_a, link, score=10, band="promoter")
    url = f"/surveys/{link.survey_id}/responses/"
    first = viewer.get(url, {"band": "detractor"})
    assert len(first.context["page"].object_list) == 50
    body = first.content.decode()
    assert "51 responses" in body
    assert "?band=detractor&amp;page=2" in body
    assert "export.csv?band=detractor" in body and "export.xlsx?band=detractor" in body
    second = viewer.get(url, {"band": "detractor", "page": 2})
    assert len(second.context["page"].object_list) == 1
    assert viewer.get(url, {"page": "nonsense"}).status_code == 200


# --- Funnel ---------------------------------------------------------------------------------

def test_funnel_per_link(viewer, org_a, django_assert_num_queries):
    survey = factories.survey(org_a, "nps")
    link1 = factories.distribution(org_a, survey)
    link2 = factories.distribution(org_a, survey)
    for _n in range(4):
        services.count_open(link1)
    services.count_open(link1, skipped_by_policy=True)
    answer(survey, {"score": "10"}, distribution=link1)
    answer(survey, {"score": "3", "comment": "No"}, distribution=link1)
    answer(survey, {"score": "7"}, complete=False, distribution=link1)
    answer(survey, {"score": "9"}, distribution=link2)  # answered without an opening counted
    answer(survey, {"score": "9"})  # no link at all (e.g. the API): in no link's funnel

    one = selectors.funnel(link1)
    assert one == {"opened": 5, "skipped_by_policy": 1, "started": 3, "completed": 2,
                   "response_rate": pytest.approx(2 / 5), "completion_rate": pytest.approx(2 / 3)}
    assert selectors.funnel(link2) == {"opened": 0, "skipped_by_policy": 0, "started": 1, "completed": 1,
                                       "response_rate": None, "completion_rate": 1.0}
    empty = factories.distribution(org_a, survey)
    assert selectors.funnel(empty)["completion_rate"] is None

    with django_assert_num_queries(3):
        rows = selectors.survey_funnel(survey)
    by_link = {row.pop("distribution"): row for row in rows}
    assert by_link[link1] == one
    assert by_link[link2] == selectors.funnel(link2)
    assert by_link[empty]["started"] == 0

    for _n in range(3):
        factories.distribution(org_a, survey)
    with django_assert_num_queries(3):  # the same queries whatever the number of links
        assert len(selectors.survey_funnel(survey)) == 6

    body = viewer.get(f"/surveys/{survey.pk}/responses/").content.decode()
    assert link1.name in body and "40 %" in body and "67 %" in body


# --- Detail ---------------------------------------------------------------------------------

@pytest.fixture
def csi(org_a):
    """A CSI survey: two attributes (one asked with importance), a multiple choice and a text."""
    survey = factories.survey(org_a, "csi")

    def question(key, kind, **fields):
        return Question.objects.create(organization=org_a, survey=survey, key=key, kind=kind, **fields)

    question("speed", Question.Kind.CSI_ATTRIBUTE, position=1, ask_importance=True,
             text={"en": "Speed of delivery", "ru": "Скорость доставки", "lv": "Piegādes ātrums"})
    question("staff", Question.Kind.CSI_ATTRIBUTE, position=2,
             text={"en": "Courtesy of the staff", "ru": "Вежливость персонала"})
    question("reasons", Question.Kind.MULTIPLE_CHOICE, position=3,
             text={"en": "What mattered?", "ru": "Что было важно?"},
             choices=[{"value": "price", "label": {"en": "Price", "ru": "Цена"}},
                      {"value": "speed", "label": {"en": "Speed", "ru": "Скорость"}},
                      {"value": "staff", "label": {"en": "Staff", "ru": "Персонал"}}])
    question("extra", Question.Kind.TEXT, position=4, text={"en": "Anything else?", "ru": "Что-то ещё?"})
    return survey


def test_detail_shows_every_answer_in_the_readers_language(viewer, org_a, csi):
    customer = factories.customer(org_a)
    link = factories.distribution(org_a, csi)
    response = answer(csi, {"speed": "4", "speed__importance": "5", "reasons": ["staff", "price"],
                            "comment": "Courier was late"},
                      distribution=link, customer=customer, hidden={"order": "A-17"})
    url = f"/surveys/{csi.pk}/responses/{response.pk}/"

    english = viewer.get(url).content.decode()
    assert "Speed of delivery" in english and "Price, Staff" in english and "importance 5" in english
    assert "Courier was late" in english
    assert "order" in english and "A-17" in english
    assert f'href="/customers/{customer.pk}/"' in english
    assert "Skipped" in english  # "staff" and "extra" were not answered

    viewer.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    russian = viewer.get(url).content.decode()
    assert "Скорость доставки" in russian and "Цена, Персонал" in russian
    assert "Speed of delivery" not in russian


def test_a_response_is_shown_only_under_its_own_survey(viewer, org_a, nps):
    other = factories.survey(org_a, "nps")
    assert viewer.get(f"/surveys/{other.pk}/responses/{nps['detractor'].pk}/").status_code == 404
    assert viewer.get(f"/surveys/{nps['survey'].pk}/responses/{nps['detractor'].pk}/").status_code == 200


def test_customer_text_is_escaped_in_list_and_detail(viewer, org_a):
    survey = factories.survey(org_a, "nps")
    script = "<script>alert(1)</script>"
    response = answer(survey, {"score": "1", "comment": script}, hidden={"ref": script})
    for url in (f"/surveys/{survey.pk}/responses/", f"/surveys/{survey.pk}/responses/{response.pk}/"):
        body = viewer.get(url).content.decode()
        assert script not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_another_organizations_survey_and_response_are_404(viewer, org_b):
    theirs = factories.response(org_b)
    survey_id = theirs.survey_id
    for url in (f"/surveys/{survey_id}/responses/", f"/surveys/{survey_id}/responses/export.csv",
                f"/surveys/{survey_id}/responses/export.xlsx", f"/surveys/{survey_id}/responses/{theirs.pk}/"):
        assert viewer.get(url).status_code == 404, url


def test_the_list_costs_the_same_queries_for_many_rows(viewer, org_a, django_assert_max_num_queries):
    link = factories.distribution(org_a)
    url = f"/surveys/{link.survey_id}/responses/"
    factories.response(org_a, link, customer=factories.customer(org_a))
    with django_assert_max_num_queries(20) as few:
        viewer.get(url)
    for _n in range(20):
        factories.response(org_a, link, customer=factories.customer(org_a))
    with django_assert_max_num_queries(len(few.captured_queries)):
        viewer.get(url)


def test_pages_are_for_members_only(client, nps):
    page = client.get(f"/surveys/{nps['survey'].pk}/responses/")
    assert page.status_code == 302 and "login" in page["Location"]


# --- Exports --------------------------------------------------------------------------------

@pytest.fixture
def exported(org_a, csi):
    """Three CSI responses; the first carries formula injections in its comment and hidden fields."""
    customer = factories.customer(org_a)
    link = factories.distribution(org_a, csi)
    hostile = answer(
        csi, {"speed": "4", "speed__importance": "5", "staff": "2", "reasons": ["staff", "price"], "extra": "fine",
              "comment": INJECTIONS[0]},
        distribution=link, customer=customer,
        hidden={"order": INJECTIONS[1], "promo": INJECTIONS[2], "ref": INJECTIONS[3]}, at=day(5),
    )
    plain = answer(csi, {"speed": "5", "comment": "ok"}, distribution=link, hidden={"order": "A-17", "utm": "mail"},
                   at=day(6))
    russian = answer(csi, {"speed": "1"}, language="ru", at=day(7))
    return {"survey": csi, "customer": customer, "link": link,
            "hostile": hostile, "plain": plain, "russian": russian}


EXPECTED_COLUMNS = [
    "response_id", "submitted_at", "status", "score", "band", "comment", "language", "touchpoint", "channel",
    "distribution", "customer_external_id", "customer_email", "source",
    "hidden_order", "hidden_promo", "hidden_ref", "hidden_utm",
    "speed", "speed__importance", "staff", "reasons", "extra",
]


def read_csv(response):
    assert response.status_code == 200
    assert response.streaming  # large exports are streamed, not built in memory
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture
def manager(org_a, make_member, client_for):
    # Exports with customers' e-mails: a role that may take personal data out (see test_personal_data).
    return client_for(make_member(org_a, Role.CX_MANAGER))


def test_csv_export_has_the_filtered_rows_and_all_columns(manager, exported):
    survey = exported["survey"]
    response = manager.get(f"/surveys/{survey.pk}/responses/export.csv?language=en")
    rows = read_csv(response)
    assert list(rows[0].keys()) == EXPECTED_COLUMNS
    by_id = {row["response_id"]: row for row in rows}
    assert set(by_id) == {str(exported["hostile"].token), str(exported["plain"].token)}  # "ru" filtered out

    hostile = by_id[str(exported["hostile"].token)]
    assert datetime.fromisoformat(hostile["submitted_at"]) == day(5)
    assert hostile["status"] == "completed" and hostile["band"] == "neutral" and hostile["score"] == ""
    assert hostile["speed"] == "4" and hostile["speed__importance"] == "5" and hostile["staff"] == "2"
    assert hostile["reasons"] == "price; staff" and hostile["extra"] == "fine"
    assert hostile["customer_external_id"] == exported["customer"].external_id
    assert hostile["customer_email"] == exported["customer"].email
    assert hostile["distribution"] == exported["link"].name
    assert hostile["touchpoint"] == exported["link"].touchpoint.name
    assert hostile["source"] == "web" and hostile["language"] == "en"
    assert hostile["hidden_utm"] == ""

    plain = by_id[str(exported["plain"].token)]
    assert plain["comment"] == "ok" and plain["hidden_order"] == "A-17" and plain["hidden_utm"] == "mail"
    assert plain["staff"] == "" and plain["reasons"] == ""


def test_csv_export_neutralises_formulas(viewer, exported):
    rows = read_csv(viewer.get(f"/surveys/{exported['survey'].pk}/responses/export.csv"))
    hostile = next(r for r in rows if r["response_id"] == str(exported["hostile"].token))
    assert hostile["comment"] == "'" + INJECTIONS[0]
    assert [hostile["hidden_order"], hostile["hidden_promo"], hostile["hidden_ref"]] == [
        "'" + value for value in INJECTIONS[1:]]


def read_xlsx(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_xlsx_export_has_the_rows_and_neutralises_formulas(manager, exported):
    header, rows = read_xlsx(manager.get(f"/surveys/{exported['survey'].pk}/responses/export.xlsx?has_comment=yes"))
    assert header == EXPECTED_COLUMNS
    by_id = {row["response_id"].value: row for row in rows}
    assert set(by_id) == {str(exported["hostile"].token), str(exported["plain"].token)}
    hostile = by_id[str(exported["hostile"].token)]
    for column, typed in zip(["comment", "hidden_order", "hidden_promo", "hidden_ref"], INJECTIONS, strict=True):
        cell = hostile[column]
        assert cell.value == "'" + typed, column
        assert cell.data_type == "s", column  # text, never a formula
    assert hostile["speed"].value == 4 and hostile["speed__importance"].value == 5  # numbers stay numbers
    assert hostile["reasons"].value == "price; staff"
    assert hostile["customer_email"].value == exported["customer"].email


def test_xlsx_export_survives_control_characters(org_a, csi):
    answer(csi, {"speed": "3", "comment": "\x01=HYPERLINK(\"http://evil\")\x02 \x1b"}, hidden={"code": "#N/A"})
    file = io.BytesIO()
    exporting.write_xlsx(csi, selectors.responses(org_a, csi), file)
    file.seek(0)
    sheet = openpyxl.load_workbook(file).worksheets[0]
    header = [c.value for c in next(sheet.iter_rows())]
    comment = list(sheet.iter_rows())[1][header.index("comment")]
    # Dropping the control characters brought "=" to the front: it is neutralised all the same.
    assert comment.value == "'=HYPERLINK(\"http://evil\") " and comment.data_type == "s"
    code = list(sheet.iter_rows())[1][header.index("hidden_code")]
    assert code.value == "#N/A" and code.data_type == "s"  # text that looks like an error code is still text


@pytest.mark.parametrize("value", [*INJECTIONS, "\tx", "\rx", "=", "-"])
def test_neutralise_prefixes_formula_text(value):
    assert exporting.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Slow delivery", "", "'quoted", "a=b", 5, -3, None])
def test_neutralise_leaves_other_values(value):
    assert exporting.neutralise(value) == value


def test_hidden_keys_are_the_union_over_the_exported_rows(org_a, exported):
    assert exporting.hidden_keys(selectors.responses(org_a, exported["survey"])) == ["order", "promo", "ref", "utm"]
    only_plain = selectors.responses(org_a, exported["survey"], {"from": day(6).date(), "to": day(6).date()})
    assert exporting.hidden_keys(only_plain) == ["order", "utm"]
