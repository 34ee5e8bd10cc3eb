"""The demo's market: a trading center and the parties around it (Suzhou, Jiangsu)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sunlit.kernel.authz import Role
from sunlit.kernel.codes import make_credit_code


@dataclass(frozen=True)
class Person:
    key: str  # file name of the person's certificate in the signer folder
    name: str
    roles: tuple[Role, ...] = ()
    username: str | None = None
    mobile: str = ""
    suite: str = "gm"


@dataclass(frozen=True)
class Org:
    name: str
    authority: str  # GB 32100 registration authority + category, e.g. "91"
    region: str
    org8: str
    roles: tuple[Role, ...]
    people: tuple[Person, ...]
    legal_rep: str = ""
    bank: str = ""
    account: str = ""
    address: str = ""
    status: str = "active"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def credit_code(self) -> str:
        return make_credit_code(self.authority[0], self.authority[1], self.region, self.org8)


C, T, A, B, E, S, F = (
    Role.CENTER_STAFF,
    Role.TENDERER,
    Role.AGENCY,
    Role.BIDDER,
    Role.EXPERT,
    Role.SUPERVISOR,
    Role.FINANCIAL,
)

BIDDER_NAMES = [
    ("江苏恒远建设工程有限公司", "320505", "周强"),
    ("苏州金鼎建筑集团有限公司", "320506", "吴刚"),
    ("中建华东建设有限公司", "320508", "郑华"),
    ("江苏润城市政工程有限公司", "320507", "孙丽"),
    ("昆山宏达路桥工程有限公司", "320583", "钱伟"),
    ("常熟天成建设有限公司", "320581", "冯涛"),
    ("苏州新世纪装饰工程有限公司", "320509", "褚明"),
    ("张家港长江基础工程有限公司", "320582", "卫东"),
]

EXPERTS = [
    ("苏州大学", "12", "320500", "46600001", ["张教授", "刘教授", "黄教授", "杨教授"]),
    (
        "苏州市建筑设计研究院有限责任公司",
        "91",
        "320508",
        "13771001",
        ["徐工", "何工", "罗工", "高工"],
    ),
    ("江苏华正工程咨询有限公司", "91", "320505", "67450002", ["林工", "郭工", "马工", "梁工"]),
]


def organizations() -> list[Org]:
    orgs = [
        Org(
            "苏州市公共资源交易中心",
            "12",
            "320500",
            "46600011",
            (C,),
            (
                Person("01-center-wangmin", "王敏", (C,), "admin", "13900000001"),
                Person("02-center-zhaolei", "赵磊", (C,), "zhaolei", "13900000002"),
            ),
            legal_rep="王建",
            address="苏州市姑苏区三香路",
        ),
        Org(
            "苏州市住房和城乡建设局",
            "11",
            "320500",
            "01400022",
            (S,),
            (Person("03-supervisor-sunhong", "孙红", (S,), None, "13900000003"),),
        ),
        Org(
            "苏州市轨道交通集团有限公司",
            "91",
            "320500",
            "71681234",
            (T,),
            (Person("04-tenderer-lijianguo", "李建国", (T,), None, "13900000004"),),
            legal_rep="陈刚",
            bank="中国工商银行苏州分行",
            account="1102020109000012345",
        ),
        Org(
            "苏州市吴中区教育局",
            "11",
            "320506",
            "01420033",
            (T,),
            (Person("05-tenderer-zhouyun", "周云", (T,), None, "13900000005"),),
        ),
        Org(
            "江苏正信招标代理有限公司",
            "91",
            "320508",
            "55012345",
            (A,),
            (Person("06-agency-chenjing", "陈静", (A,), None, "13900000006"),),
            legal_rep="陈正信",
        ),
        Org(
            "中国工商银行股份有限公司苏州分行",
            "91",
            "320500",
            "83151234",
            (F,),
            (Person("07-bank-huangfang", "黄芳", (F,), None, "13900000007"),),
        ),
        Org(
            "中国人民财产保险股份有限公司苏州市分公司",
            "91",
            "320500",
            "13476543",
            (F,),
            (Person("08-insurer-yangfan", "杨帆", (F,), None, "13900000008"),),
        ),
    ]
    for i, (name, region, person) in enumerate(BIDDER_NAMES):
        orgs.append(
            Org(
                name,
                "91",
                region,
                f"7{i:02d}2{i:02d}88",
                (B,),
                (
                    Person(
                        f"{10 + i:02d}-bidder-{i + 1}",
                        person,
                        (B,),
                        None,
                        f"1380000{i:04d}",
                        "gm" if i % 2 == 0 else "intl",
                    ),
                ),
                legal_rep=person,
                bank="中国建设银行苏州分行",
                account=f"3225019876000{i:06d}",
            )
        )
    n = 0
    for employer, authority, region, org8, names in EXPERTS:
        people = []
        for name in names:
            n += 1
            people.append(Person(f"{20 + n:02d}-expert-{n}", name, (E,), None, f"1370000{n:04d}"))
        orgs.append(Org(employer, authority, region, org8, (E,), tuple(people)))
    # One self-registered organization still waiting for review, to show the queue.
    orgs.append(
        Org(
            "苏州智慧城市科技有限公司",
            "91",
            "320505",
            "MA1X2Y3W",
            (B,),
            (Person("40-pending-qinlan", "秦岚", (B,), None, "13600000001"),),
            status="pending_review",
        )
    )
    return orgs
