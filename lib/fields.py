"""A model field that keeps secrets (API keys, OAuth tokens) encrypted at rest.

Values are encrypted with Fernet under ``settings.FIELD_ENCRYPTION_KEYS`` (MultiFernet: the first
key encrypts, every listed key decrypts, so a key is rotated by putting the new one first and
re-saving). In Python the value is a :class:`Secret`, whose ``repr``/``str`` never show the
plaintext; call ``.reveal()`` at the one place the value is sent to an API.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

_PREFIX = "fernet:"


class Secret:
    """A secret string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _PREFIX + cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(_PREFIX):
        raise ValueError("value is not an encrypted cmsync secret")
    try:
        return cipher().decrypt(stored[len(_PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ValueError(
            "cannot decrypt a stored secret: FIELD_ENCRYPTION_KEY does not list the key it was "
            "written with"
        ) from None


class _SecretAttribute:
    """Wraps whatever is assigned to the model attribute in a :class:`Secret`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return instance.__dict__.get(self.name, "")

    def __set__(self, instance: Any, value: Any) -> None:
        if value and not isinstance(value, Secret):
            value = Secret(str(value))
        instance.__dict__[self.name] = value or ""


class EncryptedTextField(models.TextField):
    """Stores ``Secret`` values encrypted; empty values are stored as ''."""

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        setattr(cls, self.attname, _SecretAttribute(self.attname))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)  # never shown in admin or model forms
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | str:
        if not value:
            return ""
        return Secret(decrypt(value))

    def to_python(self, value: Any) -> Secret | str:
        if isinstance(value, Secret) or not value:
            return value or ""
        return Secret(str(value))

    def get_prep_value(self, value: Any) -> str:
        if not value:
            return ""
        plaintext = value.reveal() if isinstance(value, Secret) else str(value)
        return encrypt(plaintext)

    def value_to_string(self, obj: Any) -> str:
        # Serialisation (dumpdata) writes the ciphertext, never the plaintext.
        return self.get_prep_value(self.value_from_object(obj))
