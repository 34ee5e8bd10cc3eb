"""The demo's partners: an admitted FI (电子投标保函) and an admitted deposit bank (保证金).

Their signing keys are generated into the demo data directory where the simulators look for
them, so ``sunlit sim fi --dir <demo>/sim/fi`` and ``sunlit sim bank --key
<demo>/sim/bank.key.pem`` run beside ``sunlit demo run`` as the very partners the center
admitted (README, "Simulators beside the demo").
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from sunlit.deposits import service as deposit_service
from sunlit.deposits.schemas import BankIn
from sunlit.guarantees import service as guarantee_service
from sunlit.kernel import clock
from sunlit.kernel.authz import Actor
from sunlit.kernel.crypto import get_suite, load_private_key_any

FI_CODE: Final = "sim-bank"
# The demo's bank organization (its user 黄芳, role 金融机构, sees the queue at /fi/guarantees);
# `sunlit sim fi --name … --credit-code …` plays it (README).
FI_NAME: Final = "中国工商银行股份有限公司苏州分行"
FI_CREDIT_CODE: Final = "913205008315123495"
FI_URL: Final = "http://127.0.0.1:8600"
BANK_CODE: Final = "simbank"
BANK_NAME: Final = "模拟保证金银行"  # the defaults of `sunlit sim bank`
BANK_URL: Final = "http://127.0.0.1:18600"
BANK_MASTER_ACCOUNT: Final = "32050188000000000001"
REGION: Final = "320500"  # the demo tenders' 行政区划 (苏州市)


def fi_folder(root: Path) -> Path:
    return root / "sim" / "fi"


def bank_key_path(root: Path) -> Path:
    return root / "sim" / "bank.key.pem"


def _key_pem(path: Path, suite: str = "gm") -> str:
    """The public key PEM of the key at ``path``, generated there first if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(get_suite(suite).generate_keypair().to_pem())
        path.chmod(0o600)
    return load_private_key_any(path.read_bytes()).public_key().to_pem().decode()


def load_partners(db: Session, actor: Actor, root: Path) -> tuple[str, str]:
    """Admit the demo FI (one product, chosen for the demo region) and the demo deposit bank;
    returns their ids."""
    inst = guarantee_service.admit_institution(
        db,
        actor,
        guarantee_service.AdmitIn(
            name=FI_NAME,
            credit_code=FI_CREDIT_CODE,
            kind="bank",
            partner_code=FI_CODE,
            public_key_pem=_key_pem(fi_folder(root) / "fi.key.pem"),
            base_url=FI_URL,
            instant=True,
            admission_ref="苏公易准〔2026〕1号（演示）",
        ),
    )
    guarantee_service.add_product(
        db,
        actor,
        inst.id,
        guarantee_service.ProductIn(
            code="DEMO-EBG",
            name="电子投标保函（银行，演示）",
            form="bank_guarantee",
            rate="0.0015",
            min_premium="200.00",
            max_amount="10000000.00",
        ),
    )
    guarantee_service.choose_institution(db, actor, REGION, inst.id)
    bank = deposit_service.admit_bank(
        db,
        actor,
        BankIn(
            code=BANK_CODE,
            name=BANK_NAME,
            base_url=BANK_URL,
            public_key_pem=_key_pem(bank_key_path(root)),
            master_account_no=BANK_MASTER_ACCOUNT,
            master_account_name="苏州市公共资源交易中心投标保证金专户",
            annual_rate=Decimal("0.0035"),
            rate_from=clock.today(),
        ),
    )
    return inst.id, bank.id
