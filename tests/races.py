"""Two (or more) writes at the same instant, for the uniqueness tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection

TRIES = 10


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None


def race(*workers: Callable[[], object]) -> list[Outcome]:
    """Run each worker in a thread of its own, with a database connection of its own, all released together.

    Returns what each one returned or raised, in the order given.
    """
    barrier = threading.Barrier(len(workers))
    outcomes = [Outcome() for _ in workers]

    def run(worker, outcome: Outcome) -> None:
        try:
            connection.ensure_connection()  # connected before the start, so that both start at once
            barrier.wait(timeout=30)
            outcome.value = worker()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome.error = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(worker, outcome)) for worker, outcome in zip(workers, outcomes,
                                                                                               strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing write never finished"
    return outcomes


def in_background(worker: Callable[[], object], *, head_start: float) -> Callable[[], Outcome]:
    """Start ``worker`` in a thread with its own database connection and give it ``head_start`` seconds (to
    finish, or to block on a lock); returns a function that waits for it to end and gives its outcome."""
    outcome = Outcome()

    def run() -> None:
        try:
            outcome.value = worker()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome.error = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=head_start)

    def finish() -> Outcome:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a write in the background never finished"
        return outcome

    return finish


def winner_and_loser(outcomes: list[Outcome]) -> tuple[Outcome, Outcome]:
    """The one that saved and the one refused, asserting there is exactly one of each."""
    saved = [o for o in outcomes if o.error is None]
    refused = [o for o in outcomes if o.error is not None]
    assert (len(saved), len(refused)) == (1, 1), [o.error for o in outcomes]
    return saved[0], refused[0]
