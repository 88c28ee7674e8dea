"""Which typed questions a lost connection leaves unanswered (livechat.live.questions)."""

from __future__ import annotations

from livechat.live.questions import TypedQuestions


def test_a_question_whose_reply_was_cut_is_asked_again() -> None:
    questions = TypedQuestions()
    questions.sent("How many keepers?")
    questions.reply_started()
    assert questions.take_unanswered() == ["How many keepers?"]
    assert questions.unanswered == 0  # pending again only once re-sent


def test_a_completed_turn_answers_the_questions_sent_before_it_started() -> None:
    questions = TypedQuestions()
    questions.sent("first")
    questions.reply_started()
    questions.sent("second, typed during the reply")
    questions.turn_ended()
    assert questions.take_unanswered() == ["second, typed during the reply"]


def test_an_interrupted_turn_counts_as_answered_the_analyst_moved_on() -> None:
    questions = TypedQuestions()
    questions.sent("first")
    questions.reply_started()
    questions.turn_ended()  # interrupted
    questions.turn_ended()  # its turnComplete: nothing more to settle
    assert questions.take_unanswered() == []


def test_a_turn_with_no_output_answers_nothing() -> None:
    questions = TypedQuestions()
    questions.sent("first")
    questions.turn_ended()  # e.g. an empty turnComplete before the reply began
    assert questions.take_unanswered() == ["first"]


def test_a_reply_started_before_a_lost_connection_does_not_carry_over() -> None:
    questions = TypedQuestions()
    questions.sent("first")
    questions.reply_started()
    assert questions.take_unanswered() == ["first"]
    questions.sent("first")  # asked again on the new connection
    questions.turn_ended()  # a turn ending before any new output covers nothing
    assert questions.unanswered == 1
    questions.reply_started()
    questions.turn_ended()
    assert questions.unanswered == 0


def test_only_the_latest_questions_are_kept() -> None:
    questions = TypedQuestions()
    for n in range(20):
        questions.sent(f"q{n}")
    assert questions.take_unanswered() == [f"q{n}" for n in range(12, 20)]
