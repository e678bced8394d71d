"""Check digits of the traders' national identifiers, with python-stdnum.

An identifier counts as valid only when it is written in its register's
standard form (what ``stdnum``'s ``format`` gives): the same trader then has
the same string on every certificate, which is what lets either side find
all of a trader's certificates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from stdnum.cn import uscc
from stdnum.vn import mst

from crossborder.domain.certificate_of_origin import IdentifierScheme

_Check = tuple[Callable[[str], bool], Callable[[str], str]]

_SCHEMES: Mapping[str, _Check] = {
    IdentifierScheme.CN_USCC: (uscc.is_valid, uscc.format),
    IdentifierScheme.VN_MST: (mst.is_valid, mst.format),
}


def party_identifier_valid(scheme: str, identifier: str) -> bool:
    """Whether ``identifier`` is a well-formed, standard-form number of ``scheme``."""
    check = _SCHEMES.get(scheme)
    if check is None:
        return False
    is_valid, standard_form = check
    return is_valid(identifier) and standard_form(identifier) == identifier
