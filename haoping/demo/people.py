"""Fake applicants and agents: plausible names, phone numbers, ID numbers and credit codes.

ID numbers and unified social credit codes carry valid check characters, so that validation
code elsewhere treats them like real ones. No Django here.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from haoping.demo.catalog import (
    CITY_CODE,
    COMPANY_BRANDS,
    COMPANY_TRADES,
    DISTRICTS,
    GIVEN_CHARS,
    SURNAMES,
)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Where people come from: mostly the city, some from elsewhere in the country.
HOME_CODES = [CITY_CODE] + [code for code, *_ in DISTRICTS] + ["320102", "330106", "340104", "370102", "410105"]


@dataclass(frozen=True)
class Party:
    kind: str
    name: str
    phone: str
    id_number: str


def person_name(rng: random.Random) -> str:
    given_length = 1 if rng.random() < 0.3 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARS) for _ in range(given_length))


def phone_number(rng: random.Random) -> str:
    return "1" + rng.choice("3578899") + "".join(rng.choice("0123456789") for _ in range(9))


def id_number(rng: random.Random, born: dt.date) -> str:
    body = f"{rng.choice(HOME_CODES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + id_check(body)


def id_check(body: str) -> str:
    """GB 11643 check character of the first 17 digits."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def credit_code(rng: random.Random, region_code: str, individual: bool = False) -> str:
    """统一社会信用代码 (GB 32100): authority, type, region, organisation code, check."""
    org_body = "".join(rng.choice("0123456789") for _ in range(8))
    org_check = 11 - sum(int(c) * w for c, w in zip(org_body, ORG_WEIGHTS, strict=True)) % 11
    org = org_body + {10: "X", 11: "0"}.get(org_check, str(org_check))
    body = ("92" if individual else "91") + region_code + org
    return body + uscc_check(body)


def uscc_check(body: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def person(rng: random.Random) -> Party:
    today = dt.date.today()
    born = today - dt.timedelta(days=rng.randint(18 * 365, 80 * 365))
    return Party("person", person_name(rng), phone_number(rng), id_number(rng, born))


def company(rng: random.Random) -> Party:
    name = f"示例市{rng.choice(COMPANY_BRANDS)}{rng.choice(COMPANY_TRADES)}有限公司"
    region = rng.choice([code for code, *_ in DISTRICTS])
    return Party("legal_person", name, phone_number(rng), credit_code(rng, region))


class People:
    """Pools of applicants, so that the same person or company comes back now and then."""

    def __init__(self, rng: random.Random, records: int) -> None:
        self.rng = rng
        self.persons = [person(rng) for _ in range(max(20, records // 3))]
        self.companies = [company(rng) for _ in range(max(10, records // 12))]
        # 帮办代办人: hall helpers, bookkeepers, banks' mortgage clerks; a few handle many records.
        self.agents = [person(rng) for _ in range(max(5, records // 150))]

    def applicant(self, business: bool) -> Party:
        return self.rng.choice(self.companies if business else self.persons)

    def agent(self) -> Party:
        return self.rng.choice(self.agents)
