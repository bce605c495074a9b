"""The identity step of resident login: the one module a new way of proving who someone is
plugs into.

Today residents prove their identity with an e-mail address and a password
(:class:`PasswordIdentity`). マイナンバーカード public personal authentication (公的個人認証,
JPKI) is meant to fill the same interface later, without touching the pages or the account
tables:

* A provider has a ``method`` name, stored on the account (``Resident.identity_method``) so
  that staff and the resident can see how the identity was last proven.
* ``verify(session, claim)`` checks one claim and answers a :class:`VerifiedIdentity`, or
  ``None`` when the claim does not prove anything (the caller shows one generic message, so a
  wrong e-mail and a wrong password are not told apart).
* A JPKI provider would take a claim carrying the 利用者証明用電子証明書 (user certificate)
  and a signature over a server nonce made with the card (through the マイナポータル
  AP / a 公的個人認証 platform operator); it verifies the signature, the certificate chain
  and revocation (OCSP/CRL of J-LIS), and finds the account by the certificate's serial or,
  once linked, by the 署名用電子証明書's basic four attributes (氏名, 住所, 生年月日, 性別)
  given with consent. It answers the same ``VerifiedIdentity``, with ``attributes`` holding
  those four so the profile can be filled once-only.
* Providers never create sessions or touch cookies: ``residents.web`` does that for any
  provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import auth
from cityos.core.web import has_control_characters
from cityos.db import utcnow
from cityos.residents.models import Resident

EMAIL_LIMIT = 320


@dataclass(frozen=True)
class IdentityClaim:
    """What a resident presents. The password provider reads ``login`` and ``secret``; a
    JPKI provider would read ``certificate`` and ``signature`` (and the nonce it issued)."""

    login: str = ""
    secret: str = ""
    certificate: bytes = b""
    signature: bytes = b""
    nonce: str = ""


@dataclass(frozen=True)
class VerifiedIdentity:
    resident: Resident
    method: str
    # Attributes the method vouches for (JPKI: name, address, birth_date, sex); empty for
    # passwords, which vouch for nothing but the account.
    attributes: dict[str, str] = field(default_factory=dict)


class IdentityProvider(Protocol):
    """One way for a resident to prove who they are."""

    method: str

    def verify(self, session: Session, claim: IdentityClaim) -> VerifiedIdentity | None:
        """The proven identity, or None when the claim proves nothing."""
        ...


class PasswordIdentity:
    """E-mail address and password, checked against an argon2 hash (as staff passwords are)."""

    method = "password"

    def verify(self, session: Session, claim: IdentityClaim) -> VerifiedIdentity | None:
        email = claim.login.strip()
        local, _, domain = email.rpartition("@")
        resident = None
        if not has_control_characters(email) and len(email) <= EMAIL_LIMIT:
            resident = session.scalar(
                select(Resident).where(Resident.email == f"{local}@{domain.lower()}")
            )
        if resident is None:
            # Costs as long as a wrong password, so the answer time tells nothing.
            auth.verify_password(auth.DUMMY_HASH, claim.secret)
            return None
        if not auth.verify_password(resident.password_hash, claim.secret):
            return None
        if auth.needs_rehash(resident.password_hash):
            resident.password_hash = auth.hash_password(claim.secret)
        resident.identity_method = self.method
        resident.last_login_at = utcnow()
        return VerifiedIdentity(resident, self.method)


#: The providers the login page offers, by method. JPKI is added here when it exists.
PROVIDERS: dict[str, IdentityProvider] = {PasswordIdentity.method: PasswordIdentity()}
