"""The evaluation session lifecycle (评标)."""

from __future__ import annotations

from enum import StrEnum

from sunlit.kernel.statemachine import StateMachine, Transition


class EvaluationStatus(StrEnum):
    FORMED = "formed"  # committee formed: sign-in, 回避声明 and 承诺书, leader election
    STARTED = "started"  # scoring, clarifications
    REPORTING = "reporting"  # report generated, members sign
    SIGNED = "signed"  # every member signed
    TERMINATED = "terminated"


class EvaluationAction(StrEnum):
    REPLACE = "replace"  # a recused or absent member replaced (by a new draw)
    SIGN_IN = "sign_in"
    DECLARE = "declare"
    VOTE = "vote"
    VENUE = "venue"
    START = "start"
    SCORE = "score"
    SUBMIT = "submit"
    ASK = "ask"
    ANSWER = "answer"
    REPORT = "report"
    SIGN = "sign"
    COMPLETE = "complete"
    TERMINATE = "terminate"


S, A = EvaluationStatus, EvaluationAction
HOST, MEMBER, LEADER, BIDDER = (
    "evaluation.host",
    "evaluation.member",
    "evaluation.leader",
    "evaluation.answer",
)

LIFECYCLE: StateMachine[EvaluationStatus, EvaluationAction] = StateMachine(
    "evaluation.session",
    [
        Transition(S.FORMED, A.REPLACE, S.FORMED, HOST),
        Transition(S.FORMED, A.VENUE, S.FORMED, HOST),
        Transition(S.FORMED, A.SIGN_IN, S.FORMED, MEMBER),
        Transition(S.FORMED, A.DECLARE, S.FORMED, MEMBER),
        Transition(S.FORMED, A.VOTE, S.FORMED, MEMBER),
        Transition(S.FORMED, A.START, S.STARTED, HOST),
        Transition(S.FORMED, A.TERMINATE, S.TERMINATED, HOST),
        Transition(S.STARTED, A.SCORE, S.STARTED, MEMBER),
        Transition(S.STARTED, A.SUBMIT, S.STARTED, MEMBER),
        Transition(S.STARTED, A.ASK, S.STARTED, MEMBER),
        Transition(S.STARTED, A.ANSWER, S.STARTED, BIDDER),
        Transition(S.STARTED, A.REPORT, S.REPORTING, LEADER),
        Transition(S.STARTED, A.TERMINATE, S.TERMINATED, HOST),
        Transition(S.REPORTING, A.SIGN, S.REPORTING, MEMBER),
        Transition(S.REPORTING, A.COMPLETE, S.SIGNED, MEMBER),
        Transition(S.REPORTING, A.TERMINATE, S.TERMINATED, HOST),
    ],
    labels={
        S.FORMED: "委员会已组建",
        S.STARTED: "评标中",
        S.REPORTING: "评标报告签署中",
        S.SIGNED: "评标报告已签署",
        S.TERMINATED: "已终止",
        A.REPLACE: "更换成员",
        A.VENUE: "设置评标场地",
        A.SIGN_IN: "专家签到",
        A.DECLARE: "回避声明与承诺",
        A.VOTE: "推选评标组长",
        A.START: "开始评标",
        A.SCORE: "评分",
        A.SUBMIT: "提交评分",
        A.ASK: "发出澄清",
        A.ANSWER: "答复澄清",
        A.REPORT: "生成评标报告",
        A.SIGN: "签署评标报告",
        A.COMPLETE: "评标报告签署完成",
        A.TERMINATE: "终止评标",
    },
)
