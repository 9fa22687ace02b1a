"""WHO ASSIST v3.0: the Alcohol, Smoking and Substance Involvement Screening Test.

Pure scoring rules, no models: the question tables drive the forms, and `score_screening` turns a
completed screening into coded results that can be stored as JSON.

Source: WHO, "The Alcohol, Smoking and Substance Involvement Screening Test (ASSIST): manual for
use in primary care" (2010), questionnaire version 3.0.

Answers are passed as ``{"q1": "yes", "q2": "weekly", ...}`` per substance, with Q8 (injecting)
given once for the whole screening. The manual's skip rules are enforced, not assumed: a question
that is skipped must be left out (or given its zero answer), and a question that is asked must be
answered, so an incomplete form never scores as "low risk".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

INSTRUMENT = "WHO ASSIST v3.0"

# Substances -----------------------------------------------------------------------------------

TOBACCO = "tobacco"
ALCOHOL = "alcohol"
CANNABIS = "cannabis"
COCAINE = "cocaine"
AMPHETAMINE = "amphetamine"
INHALANTS = "inhalants"
SEDATIVES = "sedatives"
HALLUCINOGENS = "hallucinogens"
OPIOIDS = "opioids"
OTHER = "other"

SUBSTANCE_LABELS: Mapping[str, Promise] = MappingProxyType(
    {
        TOBACCO: _("Tobacco products"),
        ALCOHOL: _("Alcoholic beverages"),
        CANNABIS: _("Cannabis"),
        COCAINE: _("Cocaine"),
        AMPHETAMINE: _("Amphetamine-type stimulants"),
        INHALANTS: _("Inhalants"),
        SEDATIVES: _("Sedatives or sleeping pills"),
        HALLUCINOGENS: _("Hallucinogens"),
        OPIOIDS: _("Opioids"),
        OTHER: _("Other substances"),
    }
)

# The examples printed on the ASSIST response card, for help text next to each substance.
SUBSTANCE_EXAMPLES: Mapping[str, Promise] = MappingProxyType(
    {
        TOBACCO: _("cigarettes, chewing tobacco, cigars, etc."),
        ALCOHOL: _("beer, wine, spirits, etc."),
        CANNABIS: _("marijuana, pot, grass, hash, etc."),
        COCAINE: _("coke, crack, etc."),
        AMPHETAMINE: _("speed, methamphetamine, diet pills, ecstasy, etc."),
        INHALANTS: _("nitrous, glue, petrol, paint thinner, etc."),
        SEDATIVES: _("diazepam, alprazolam, flunitrazepam, etc."),
        HALLUCINOGENS: _("LSD, acid, mushrooms, PCP, ketamine, etc."),
        OPIOIDS: _("heroin, morphine, methadone, codeine, etc."),
        OTHER: _("any other substance used non-medically"),
    }
)

SUBSTANCES: tuple[str, ...] = tuple(SUBSTANCE_LABELS)
SUBSTANCE_CHOICES: list[tuple[str, Promise]] = list(SUBSTANCE_LABELS.items())

# Questions ------------------------------------------------------------------------------------


class Answer(NamedTuple):
    code: str
    label: Promise
    weight: int


@dataclass(frozen=True)
class Question:
    code: str
    number: int
    text: Promise
    answers: tuple[Answer, ...]
    per_substance: bool = True

    @property
    def choices(self) -> list[tuple[str, Promise]]:
        return [(answer.code, answer.label) for answer in self.answers]

    @property
    def weights(self) -> dict[str, int]:
        return {answer.code: answer.weight for answer in self.answers}

    @property
    def max_weight(self) -> int:
        return max(answer.weight for answer in self.answers)


def _frequency(*weights: int) -> tuple[Answer, ...]:
    labels = (
        ("never", _("Never")),
        ("once_twice", _("Once or twice")),
        ("monthly", _("Monthly")),
        ("weekly", _("Weekly")),
        ("daily", _("Daily or almost daily")),
    )
    return tuple(Answer(code, label, weight) for (code, label), weight in zip(labels, weights, strict=True))


def _ever(recent: int, past: int) -> tuple[Answer, ...]:
    return (
        Answer("no", _("No, never"), 0),
        Answer("yes_recent", _("Yes, in the past 3 months"), recent),
        Answer("yes_past", _("Yes, but not in the past 3 months"), past),
    )


Q1 = Question(
    "q1",
    1,
    _("In your life, have you ever used this substance? (non-medical use only)"),
    (Answer("no", _("No"), 0), Answer("yes", _("Yes"), 3)),
)
Q2 = Question(
    "q2",
    2,
    _("In the past three months, how often have you used this substance?"),
    _frequency(0, 2, 3, 4, 6),
)
Q3 = Question(
    "q3",
    3,
    _("During the past three months, how often have you had a strong desire or urge to use this substance?"),
    _frequency(0, 3, 4, 5, 6),
)
Q4 = Question(
    "q4",
    4,
    _(
        "During the past three months, how often has your use of this substance led to health, social, legal "
        "or financial problems?"
    ),
    _frequency(0, 4, 5, 6, 7),
)
Q5 = Question(
    "q5",
    5,
    _(
        "During the past three months, how often have you failed to do what was normally expected of you "
        "because of your use of this substance?"
    ),
    _frequency(0, 5, 6, 7, 8),
)
Q6 = Question(
    "q6",
    6,
    _("Has a friend or relative or anyone else ever expressed concern about your use of this substance?"),
    _ever(6, 3),
)
Q7 = Question(
    "q7",
    7,
    _("Have you ever tried and failed to control, cut down or stop using this substance?"),
    _ever(6, 3),
)
Q8 = Question(
    "q8",
    8,
    _("Have you ever used any drug by injection? (non-medical use only)"),
    _ever(2, 1),
    per_substance=False,
)

QUESTIONS: Mapping[str, Question] = MappingProxyType({q.code: q for q in (Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8)})

# Q1 decides whether anything else is asked; Q2..Q7 make up the involvement score.
SCORED_QUESTIONS: tuple[str, ...] = ("q2", "q3", "q4", "q5", "q6", "q7")
# Asked only when Q2 reports use in the past three months.
RECENT_USE_QUESTIONS: tuple[str, ...] = ("q3", "q4", "q5")
# The manual does not ask Q5 about tobacco.
NOT_ASKED: Mapping[str, frozenset[str]] = MappingProxyType({TOBACCO: frozenset({"q5"})})

# Risk levels and interventions ----------------------------------------------------------------

LOW = "low"
MODERATE = "moderate"
HIGH = "high"
RISK_LEVELS: tuple[str, ...] = (LOW, MODERATE, HIGH)
RISK_CHOICES: list[tuple[str, Promise]] = [(LOW, _("Low risk")), (MODERATE, _("Moderate risk")), (HIGH, _("High risk"))]

# Lowest score of each level; alcohol is the one substance with its own moderate threshold.
MODERATE_FROM: Mapping[str, int] = MappingProxyType({ALCOHOL: 11})
DEFAULT_MODERATE_FROM = 4
HIGH_FROM = 27


class Intervention(NamedTuple):
    code: str
    label: Promise


RECOMMENDED_INTERVENTION: Mapping[str, Intervention] = MappingProxyType(
    {
        LOW: Intervention("none", _("No intervention: general health advice and encouragement not to increase use")),
        MODERATE: Intervention("brief_intervention", _("Brief intervention")),
        HIGH: Intervention(
            "intensive_treatment",
            _("Brief intervention and referral to specialist assessment and more intensive treatment"),
        ),
    }
)
INTERVENTION_CHOICES: list[tuple[str, Promise]] = [(i.code, i.label) for i in RECOMMENDED_INTERVENTION.values()]

INJECTION_NONE = "none"
INJECTION_PAST = "past"
INJECTION_RECENT = "recent"
_INJECTION_BY_WEIGHT: Mapping[int, str] = MappingProxyType({0: INJECTION_NONE, 1: INJECTION_PAST, 2: INJECTION_RECENT})
INJECTION_RISK_CHOICES: list[tuple[str, Promise]] = [
    (INJECTION_NONE, _("Never injected")),
    (INJECTION_PAST, _("Injected, but not in the past 3 months")),
    (INJECTION_RECENT, _("Injected in the past 3 months")),
]
INJECTION_ADVICE: Mapping[str, Promise] = MappingProxyType(
    {
        INJECTION_NONE: _("No injecting-specific intervention needed."),
        INJECTION_PAST: _(
            "Give the risk information card on injecting, ask whether the person has been tested for HIV and "
            "hepatitis B and C, and offer testing."
        ),
        INJECTION_RECENT: _(
            "Injecting in the past 3 months: ask about the pattern of injecting, give the risk information card "
            "on injecting and a brief intervention, and offer HIV and hepatitis B and C testing. If injecting on "
            "more than 4 days a month on average, refer for further assessment and more intensive treatment."
        ),
    }
)

# Errors ---------------------------------------------------------------------------------------

UNKNOWN_SUBSTANCE = _("ASSIST: “%(substance)s” is not an ASSIST substance.")
MISSING_SUBSTANCE = _("ASSIST, %(substance)s: no answers; question 1 must be answered for every substance.")
NOT_A_MAPPING = _("ASSIST, %(substance)s: the answers must be a mapping of question to answer.")
UNKNOWN_QUESTION = _("ASSIST, %(substance)s: “%(question)s” is not an ASSIST question.")
NOT_PER_SUBSTANCE = _("ASSIST, %(substance)s: question 8 is asked once per screening, not per substance.")
QUESTION_NOT_ASKED = _("ASSIST, %(substance)s, question %(number)s: this question is not asked for this substance.")
INVALID_ANSWER = _("ASSIST, %(substance)s, question %(number)s: “%(answer)s” is not an allowed answer.")
MISSING_ANSWER = _("ASSIST, %(substance)s, question %(number)s: an answer is required.")
SKIPPED_NEVER_USED = _(
    "ASSIST, %(substance)s, question %(number)s: must be left out or answered “no” or “never”, because "
    "question 1 says the substance was never used."
)
SKIPPED_NOT_RECENT = _(
    "ASSIST, %(substance)s, question %(number)s: must be left out or answered “never”, because question 2 "
    "says the substance was not used in the past three months."
)
INVALID_Q8 = _("ASSIST, question 8: “%(answer)s” is not an allowed answer.")
INVALID_SCORE = _("ASSIST, %(substance)s: %(score)s is not a possible score (0 to %(max)s).")
INCONSISTENT_RESULT = _("ASSIST: the stored result is not consistent with the scoring rules (%(field)s).")


class AssistError(ValueError):
    """An answer set the ASSIST does not allow; `substance` and `question` locate it for a form."""

    def __init__(self, message: str, *, substance: str | None = None, question: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.substance = substance
        self.question = question


def _error(
    template: Promise, *, substance: str | None = None, question: str | None = None, **params: Any
) -> AssistError:
    params["question"] = question
    if substance is not None:
        params["substance"] = SUBSTANCE_LABELS.get(substance, substance)
    if question in QUESTIONS:
        params["number"] = QUESTIONS[question].number
    return AssistError(str(template % params), substance=substance, question=question)


def _check_substance(substance: str) -> None:
    if not isinstance(substance, str) or substance not in SUBSTANCE_LABELS:
        raise AssistError(str(UNKNOWN_SUBSTANCE % {"substance": substance}))


# Scoring --------------------------------------------------------------------------------------


def questions_for(substance: str) -> tuple[Question, ...]:
    """The per-substance questions (Q1..Q7) asked about `substance`, in order."""
    _check_substance(substance)
    skipped = NOT_ASKED.get(substance, frozenset())
    return tuple(q for q in QUESTIONS.values() if q.per_substance and q.code not in skipped)


def max_score(substance: str) -> int:
    """The highest possible involvement score: 39, or 31 for tobacco (no Q5)."""
    return sum(q.max_weight for q in questions_for(substance) if q.code in SCORED_QUESTIONS)


def score_substance(substance: str, answers: Mapping[str, str]) -> int:
    """The specific substance involvement score: the sum of the weights of Q2..Q7 (no Q5 for tobacco)."""
    asked = {q.code: q for q in questions_for(substance)}
    if not isinstance(answers, Mapping):
        raise _error(NOT_A_MAPPING, substance=substance)
    for code in answers:
        if code == Q8.code:
            raise _error(NOT_PER_SUBSTANCE, substance=substance, question=code)
        if code not in QUESTIONS:
            raise _error(UNKNOWN_QUESTION, substance=substance, question=str(code))
        if code not in asked:
            raise _error(QUESTION_NOT_ASKED, substance=substance, question=code)

    weights: dict[str, int] = {}
    for code, question in asked.items():
        if code not in answers:
            continue
        value = answers[code]
        if not isinstance(value, str) or value not in question.weights:
            raise _error(INVALID_ANSWER, substance=substance, question=code, answer=value)
        weights[code] = question.weights[value]

    def require(code: str) -> None:
        if code in asked and code not in weights:
            raise _error(MISSING_ANSWER, substance=substance, question=code)

    def must_be_zero(codes: tuple[str, ...], template: Promise) -> None:
        for code in codes:
            if weights.get(code, 0) != 0:
                raise _error(template, substance=substance, question=code)

    require("q1")
    if answers["q1"] == "no":
        must_be_zero(SCORED_QUESTIONS, SKIPPED_NEVER_USED)
        return 0
    require("q2")
    if answers["q2"] == "never":
        must_be_zero(RECENT_USE_QUESTIONS, SKIPPED_NOT_RECENT)
    else:
        for code in RECENT_USE_QUESTIONS:
            require(code)
    require("q6")
    require("q7")
    return sum(weight for code, weight in weights.items() if code in SCORED_QUESTIONS)


def risk_level(substance: str, score: int) -> str:
    """The risk level ("low", "moderate" or "high") of a specific substance involvement score."""
    highest = max_score(substance)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= highest:
        raise _error(INVALID_SCORE, substance=substance, score=score, max=highest)
    if score >= HIGH_FROM:
        return HIGH
    if score >= MODERATE_FROM.get(substance, DEFAULT_MODERATE_FROM):
        return MODERATE
    return LOW


def injection_risk(q8_answer: str) -> str:
    """The injecting risk from the answer to Q8: "recent" (past 3 months), "past" or "none"."""
    if not isinstance(q8_answer, str) or q8_answer not in Q8.weights:
        raise AssistError(str(INVALID_Q8 % {"answer": q8_answer}), question=Q8.code)
    return _INJECTION_BY_WEIGHT[Q8.weights[q8_answer]]


# Results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubstanceResult:
    substance: str
    used: bool
    score: int
    risk: str
    intervention: str

    @property
    def label(self) -> Promise:
        return SUBSTANCE_LABELS[self.substance]

    @property
    def intervention_label(self) -> Promise:
        return RECOMMENDED_INTERVENTION[self.risk].label


@dataclass(frozen=True)
class AssistResult:
    substances: tuple[SubstanceResult, ...]
    q8: str
    injection: str

    def __getitem__(self, substance: str) -> SubstanceResult:
        for result in self.substances:
            if result.substance == substance:
                return result
        raise KeyError(substance)

    @property
    def scores(self) -> dict[str, int]:
        return {r.substance: r.score for r in self.substances}

    @property
    def highest_risk(self) -> str | None:
        """The highest level over the substances ever used, or None when none was."""
        levels = [RISK_LEVELS.index(r.risk) for r in self.substances if r.used]
        return RISK_LEVELS[max(levels)] if levels else None

    @property
    def injection_advice(self) -> Promise:
        return INJECTION_ADVICE[self.injection]

    def as_dict(self) -> dict[str, Any]:
        """Coded results only (no labels), safe to store as JSON and to compare across languages."""
        return {
            "instrument": INSTRUMENT,
            "substances": {
                r.substance: {"used": r.used, "score": r.score, "risk": r.risk, "intervention": r.intervention}
                for r in self.substances
            },
            "highest_risk": self.highest_risk,
            "q8": self.q8,
            "injection_risk": self.injection,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AssistResult:
        """Rebuild a stored result, checking that it still agrees with the scoring rules."""

        def check(condition: bool, field: str) -> None:
            if not condition:
                raise AssistError(str(INCONSISTENT_RESULT % {"field": field}))

        check(data.get("instrument") == INSTRUMENT, "instrument")
        stored = data.get("substances")
        check(isinstance(stored, Mapping) and set(stored) == set(SUBSTANCES), "substances")  # JSONB reorders keys
        results = []
        for substance in SUBSTANCES:
            entry = stored[substance]
            check(isinstance(entry, Mapping) and isinstance(entry.get("used"), bool), substance)
            risk = risk_level(substance, entry.get("score"))
            check(entry["used"] or entry["score"] == 0, substance)
            check(entry.get("risk") == risk, substance)
            check(entry.get("intervention") == RECOMMENDED_INTERVENTION[risk].code, substance)
            results.append(SubstanceResult(substance, entry["used"], entry["score"], risk, entry["intervention"]))
        q8 = data.get("q8")
        check(data.get("injection_risk") == injection_risk(q8), "injection_risk")
        result = cls(substances=tuple(results), q8=q8, injection=data["injection_risk"])
        check(data.get("highest_risk") == result.highest_risk, "highest_risk")
        return result


def score_screening(answers: Mapping[str, Mapping[str, str]], q8: str) -> AssistResult:
    """Score a whole screening: one answer block per substance (all ten required) and Q8."""
    if not isinstance(answers, Mapping):
        raise AssistError(str(NOT_A_MAPPING % {"substance": _("all substances")}))
    for substance in answers:
        _check_substance(substance)
    results = []
    for substance in SUBSTANCES:
        if substance not in answers:
            raise _error(MISSING_SUBSTANCE, substance=substance, question=Q1.code)
        block = answers[substance]
        score = score_substance(substance, block)
        risk = risk_level(substance, score)
        results.append(
            SubstanceResult(
                substance=substance,
                used=block["q1"] == "yes",
                score=score,
                risk=risk,
                intervention=RECOMMENDED_INTERVENTION[risk].code,
            )
        )
    return AssistResult(substances=tuple(results), q8=q8, injection=injection_risk(q8))
