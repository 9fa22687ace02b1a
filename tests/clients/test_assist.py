"""WHO ASSIST v3.0 scoring, checked against worked examples from the manual's tables."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients import assist
from clients.assist import AssistError, AssistResult

NOT_USED = {"q1": "no"}
NO_CONCERN = {"q6": "no", "q7": "no"}


def used(**answers: str) -> dict[str, str]:
    """A block for a substance ever used: Q6 and Q7 default to "no"."""
    return {"q1": "yes", **NO_CONCERN, **answers}


def screening(**blocks: dict[str, str]) -> dict[str, dict[str, str]]:
    """A full screening where every substance not named was never used."""
    return {substance: blocks.get(substance, NOT_USED) for substance in assist.SUBSTANCES}


def expected_risk(substance: str, score: int) -> str:
    if score >= 27:
        return "high"
    if score >= (11 if substance == "alcohol" else 4):
        return "moderate"
    return "low"


# Tables ---------------------------------------------------------------------------------------


def test_substances_in_questionnaire_order():
    assert assist.SUBSTANCES == (
        "tobacco",
        "alcohol",
        "cannabis",
        "cocaine",
        "amphetamine",
        "inhalants",
        "sedatives",
        "hallucinogens",
        "opioids",
        "other",
    )
    assert [code for code, _label in assist.SUBSTANCE_CHOICES] == list(assist.SUBSTANCES)
    assert str(dict(assist.SUBSTANCE_CHOICES)["amphetamine"]) == "Amphetamine-type stimulants"


def test_weights_are_the_manuals():
    frequency = ("never", "once_twice", "monthly", "weekly", "daily")
    ever = ("no", "yes_recent", "yes_past")
    assert {code: q.weights for code, q in assist.QUESTIONS.items()} == {
        "q1": {"no": 0, "yes": 3},
        "q2": dict(zip(frequency, (0, 2, 3, 4, 6), strict=True)),
        "q3": dict(zip(frequency, (0, 3, 4, 5, 6), strict=True)),
        "q4": dict(zip(frequency, (0, 4, 5, 6, 7), strict=True)),
        "q5": dict(zip(frequency, (0, 5, 6, 7, 8), strict=True)),
        "q6": dict(zip(ever, (0, 6, 3), strict=True)),
        "q7": dict(zip(ever, (0, 6, 3), strict=True)),
        "q8": dict(zip(ever, (0, 2, 1), strict=True)),
    }


def test_questions_for_tobacco_leave_out_q5():
    assert [q.code for q in assist.questions_for("tobacco")] == ["q1", "q2", "q3", "q4", "q6", "q7"]
    assert [q.code for q in assist.questions_for("opioids")] == ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]
    assert str(dict(assist.Q2.choices)["daily"]) == "Daily or almost daily"


def test_max_scores():
    assert assist.max_score("tobacco") == 6 + 6 + 7 + 6 + 6 == 31
    assert assist.max_score("alcohol") == 6 + 6 + 7 + 8 + 6 + 6 == 39


def test_interventions():
    assert {level: i.code for level, i in assist.RECOMMENDED_INTERVENTION.items()} == {
        "low": "none",
        "moderate": "brief_intervention",
        "high": "intensive_treatment",
    }
    assert str(assist.RECOMMENDED_INTERVENTION["moderate"].label) == "Brief intervention"


# Scoring one substance ------------------------------------------------------------------------


def test_full_alcohol_example():
    answers = used(q2="weekly", q3="monthly", q4="once_twice", q5="never", q6="yes_past", q7="no")
    score = assist.score_substance("alcohol", answers)
    assert score == 4 + 4 + 4 + 0 + 3 + 0 == 15
    assert assist.risk_level("alcohol", score) == "moderate"


NONE_RECENT = {"q3": "never", "q4": "never", "q5": "never"}


@pytest.mark.parametrize(
    ("substance", "answers", "score", "risk"),
    [
        ("alcohol", used(q2="weekly", q3="daily", q4="never", q5="never"), 10, "low"),
        ("alcohol", used(q2="once_twice", q3="once_twice", q4="never", q5="monthly"), 11, "moderate"),
        ("alcohol", used(q2="daily", q3="daily", q4="daily", q5="weekly"), 26, "moderate"),
        ("alcohol", used(q2="daily", q3="daily", q4="daily", q5="daily"), 27, "high"),
        ("cannabis", used(q2="never", q6="yes_past"), 3, "low"),
        ("cannabis", used(q2="weekly", **NONE_RECENT), 4, "moderate"),
        ("cannabis", used(q2="daily", q3="daily", q4="daily", q5="weekly"), 26, "moderate"),
        ("cannabis", used(q2="daily", q3="daily", q4="daily", q5="daily"), 27, "high"),
    ],
)
def test_boundary_scores(substance, answers, score, risk):
    assert assist.score_substance(substance, answers) == score
    assert assist.risk_level(substance, score) == risk


@pytest.mark.parametrize(
    ("substance", "score", "risk"),
    [
        ("alcohol", 0, "low"),
        ("alcohol", 10, "low"),
        ("alcohol", 11, "moderate"),
        ("alcohol", 26, "moderate"),
        ("alcohol", 27, "high"),
        ("opioids", 3, "low"),
        ("opioids", 4, "moderate"),
        ("opioids", 26, "moderate"),
        ("opioids", 27, "high"),
        ("tobacco", 31, "high"),
    ],
)
def test_risk_level_thresholds(substance, score, risk):
    assert assist.risk_level(substance, score) == risk


@pytest.mark.parametrize(("substance", "score"), [("alcohol", -1), ("alcohol", 40), ("tobacco", 32), ("alcohol", 1.5)])
def test_risk_level_rejects_impossible_scores(substance, score):
    with pytest.raises(AssistError, match="is not a possible score"):
        assist.risk_level(substance, score)


def test_tobacco_with_q5_raises():
    answers = used(q2="daily", q3="daily", q4="daily", q5="never")
    with pytest.raises(AssistError) as excinfo:
        assist.score_substance("tobacco", answers)
    assert str(excinfo.value) == "ASSIST, Tobacco products, question 5: this question is not asked for this substance."
    assert (excinfo.value.substance, excinfo.value.question) == ("tobacco", "q5")


def test_tobacco_max_score_is_high():
    answers = used(q2="daily", q3="daily", q4="daily", q6="yes_recent", q7="yes_recent")
    assert assist.score_substance("tobacco", answers) == 6 + 6 + 7 + 6 + 6 == 31
    assert assist.risk_level("tobacco", 31) == "high"


def test_never_used_scores_zero():
    assert assist.score_substance("cocaine", NOT_USED) == 0
    assert assist.score_substance("cocaine", {"q1": "no", "q2": "never", "q6": "no", "q7": "no"}) == 0


def test_never_used_with_use_reported_raises():
    with pytest.raises(AssistError) as excinfo:
        assist.score_substance("cocaine", {"q1": "no", "q2": "weekly"})
    assert str(excinfo.value) == (
        "ASSIST, Cocaine, question 2: must be left out or answered “no” or “never”, "
        "because question 1 says the substance was never used."
    )


def test_no_recent_use_still_asks_q6_and_q7():
    answers = used(q2="never", q6="yes_recent")
    assert assist.score_substance("cannabis", answers) == 6
    assert assist.risk_level("cannabis", 6) == "moderate"
    assert assist.risk_level("alcohol", 6) == "low"


def test_no_recent_use_accepts_never_for_skipped_questions():
    assert assist.score_substance("sedatives", used(q2="never", **NONE_RECENT)) == 0


def test_no_recent_use_with_recent_problems_raises():
    with pytest.raises(AssistError) as excinfo:
        assist.score_substance("opioids", used(q2="never", q3="monthly"))
    assert str(excinfo.value) == (
        "ASSIST, Opioids, question 3: must be left out or answered “never”, "
        "because question 2 says the substance was not used in the past three months."
    )


@pytest.mark.parametrize(
    ("answers", "question", "message"),
    [
        (used(q2="sometimes"), "q2", "ASSIST, Cannabis, question 2: “sometimes” is not an allowed answer."),
        (used(q2="never", q6="yes"), "q6", "ASSIST, Cannabis, question 6: “yes” is not an allowed answer."),
        (used(q2=4), "q2", "ASSIST, Cannabis, question 2: “4” is not an allowed answer."),
        ({"q1": "maybe"}, "q1", "ASSIST, Cannabis, question 1: “maybe” is not an allowed answer."),
        ({"q2": "never"}, "q1", "ASSIST, Cannabis, question 1: an answer is required."),
        ({"q1": "yes"}, "q2", "ASSIST, Cannabis, question 2: an answer is required."),
        (used(q2="weekly", q3="never", q4="never"), "q5", "ASSIST, Cannabis, question 5: an answer is required."),
        ({"q1": "yes", "q2": "never", "q6": "no"}, "q7", "ASSIST, Cannabis, question 7: an answer is required."),
        (used(q2="never", q9="no"), "q9", "ASSIST, Cannabis: “q9” is not an ASSIST question."),
        (
            used(q2="never", q8="no"),
            "q8",
            "ASSIST, Cannabis: question 8 is asked once per screening, not per substance.",
        ),
    ],
)
def test_invalid_answers_raise(answers, question, message):
    with pytest.raises(AssistError) as excinfo:
        assist.score_substance("cannabis", answers)
    assert str(excinfo.value) == message
    assert (excinfo.value.substance, excinfo.value.question) == ("cannabis", question)


def test_unknown_substance_raises():
    with pytest.raises(AssistError) as excinfo:
        assist.score_substance("kratom", NOT_USED)
    assert str(excinfo.value) == "ASSIST: “kratom” is not an ASSIST substance."


# Injecting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "risk"), [("no", "none"), ("yes_past", "past"), ("yes_recent", "recent")])
def test_q8_mapping(answer, risk):
    assert assist.injection_risk(answer) == risk
    assert str(assist.INJECTION_ADVICE[risk])


def test_recent_injecting_advice_covers_card_brief_intervention_and_testing():
    advice = str(assist.INJECTION_ADVICE["recent"])
    assert "risk information card" in advice
    assert "brief intervention" in advice
    assert "HIV and hepatitis" in advice


@pytest.mark.parametrize("answer", ["yes", "never", "", None, 2])
def test_q8_outside_allowed_values_raises(answer):
    with pytest.raises(AssistError, match="question 8"):
        assist.injection_risk(answer)


# Whole screening ------------------------------------------------------------------------------


def test_screening_scores_every_substance():
    result = assist.score_screening(
        screening(
            alcohol=used(q2="weekly", q3="monthly", q4="once_twice", q5="never", q6="yes_past"),
            cannabis=used(q2="never", q6="yes_recent"),
        ),
        "yes_past",
    )
    assert result["alcohol"].score == 15
    assert result["alcohol"].intervention == "brief_intervention"
    assert result["cannabis"].risk == "moderate"
    assert result["tobacco"] == assist.SubstanceResult("tobacco", False, 0, "low", "none")
    assert result.scores == {**dict.fromkeys(assist.SUBSTANCES, 0), "alcohol": 15, "cannabis": 6}
    assert result.injection == "past"


def test_highest_risk_across_substances():
    result = assist.score_screening(
        screening(
            tobacco=used(q2="daily", q3="daily", q4="never"),
            alcohol=used(q2="daily", q3="daily", q4="daily", q5="daily"),
            cannabis=used(q2="never"),
        ),
        "no",
    )
    assert [result[s].risk for s in ("tobacco", "alcohol", "cannabis")] == ["moderate", "high", "low"]
    assert result.highest_risk == "high"


def test_highest_risk_is_low_when_used_but_not_recently():
    result = assist.score_screening(screening(inhalants=used(q2="never")), "no")
    assert result.highest_risk == "low"


def test_highest_risk_is_none_when_nothing_used():
    result = assist.score_screening(screening(), "no")
    assert result.highest_risk is None
    assert result.injection == "none"


def test_screening_names_the_substance_in_errors():
    with pytest.raises(AssistError) as excinfo:
        assist.score_screening(screening(tobacco=used(q2="weekly", q3="never", q4="never", q5="never")), "no")
    assert str(excinfo.value) == "ASSIST, Tobacco products, question 5: this question is not asked for this substance."


def test_screening_requires_every_substance():
    answers = screening()
    del answers["opioids"]
    with pytest.raises(AssistError) as excinfo:
        assist.score_screening(answers, "no")
    assert str(excinfo.value) == "ASSIST, Opioids: no answers; question 1 must be answered for every substance."


def test_screening_rejects_unknown_substance_and_bad_q8():
    with pytest.raises(AssistError, match="“betel” is not an ASSIST substance"):
        assist.score_screening({**screening(), "betel": NOT_USED}, "no")
    with pytest.raises(AssistError, match="question 8: “sometimes” is not an allowed answer"):
        assist.score_screening(screening(), "sometimes")


def test_as_dict_round_trips_through_json():
    result = assist.score_screening(
        screening(alcohol=used(q2="weekly", q3="daily", q4="never", q5="never"), opioids=used(q2="never")),
        "yes_recent",
    )
    stored = json.loads(json.dumps(result.as_dict()))
    assert stored == result.as_dict()
    assert stored["instrument"] == "WHO ASSIST v3.0"
    assert stored["substances"]["alcohol"] == {"used": True, "score": 10, "risk": "low", "intervention": "none"}
    assert stored["highest_risk"] == "low"
    assert (stored["q8"], stored["injection_risk"]) == ("yes_recent", "recent")
    assert AssistResult.from_dict(stored) == result


def test_from_dict_rejects_tampered_results():
    stored = assist.score_screening(screening(cannabis=used(q2="weekly", **NONE_RECENT)), "no").as_dict()
    stored["substances"]["cannabis"]["risk"] = "low"
    with pytest.raises(AssistError, match=r"not consistent with the scoring rules \(cannabis\)"):
        AssistResult.from_dict(stored)


# Properties -----------------------------------------------------------------------------------

FREQUENCY = [a.code for a in assist.Q2.answers]
EVER = [a.code for a in assist.Q6.answers]


@st.composite
def substance_block(draw, substance: str) -> dict[str, str]:
    recent_questions = [q for q in ("q3", "q4", "q5") if not (substance == "tobacco" and q == "q5")]
    if draw(st.booleans()):
        # Never used: the skipped questions may be left out or given their zero answer.
        block = {"q1": "no"}
        for question in ("q2", *recent_questions):
            if draw(st.booleans()):
                block[question] = "never"
        for question in ("q6", "q7"):
            if draw(st.booleans()):
                block[question] = "no"
        return block
    block = {"q1": "yes", "q2": draw(st.sampled_from(FREQUENCY))}
    for question in recent_questions:
        if block["q2"] != "never":
            block[question] = draw(st.sampled_from(FREQUENCY))
        elif draw(st.booleans()):
            block[question] = "never"
    block["q6"] = draw(st.sampled_from(EVER))
    block["q7"] = draw(st.sampled_from(EVER))
    return block


@given(st.data())
def test_every_valid_answer_set_scores_within_range(data):
    substance = data.draw(st.sampled_from(assist.SUBSTANCES))
    block = data.draw(substance_block(substance))
    score = assist.score_substance(substance, block)
    assert 0 <= score <= (31 if substance == "tobacco" else 39)
    assert assist.risk_level(substance, score) == expected_risk(substance, score)


@st.composite
def full_screening(draw) -> tuple[dict[str, dict[str, str]], str]:
    blocks = {substance: draw(substance_block(substance)) for substance in assist.SUBSTANCES}
    return blocks, draw(st.sampled_from(EVER))


@given(full_screening())
def test_every_valid_screening_round_trips(args):
    answers, q8 = args
    result = assist.score_screening(answers, q8)
    assert AssistResult.from_dict(json.loads(json.dumps(result.as_dict()))) == result
    used_levels = [r.risk for r in result.substances if r.used]
    assert result.highest_risk == (max(used_levels, key=assist.RISK_LEVELS.index) if used_levels else None)
