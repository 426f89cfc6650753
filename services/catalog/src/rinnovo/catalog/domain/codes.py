"""Changes to a convention code, as pure functions from one snapshot to the next.

Revocation is final: a withdrawn agreement comes back as a new code, so a customer who was
told a code is withdrawn never finds it working again.
"""

from collections.abc import Iterable

from rinnovo.catalog.domain.drafts import CodeChanges, CodeDraft
from rinnovo.catalog.domain.errors import NoLongerChanges, reject_if
from rinnovo.catalog.domain.rules import code_problems
from rinnovo.contracts.catalog import ConventionCodeSnapshot


def create_code(draft: CodeDraft, product_ids: Iterable[str]) -> ConventionCodeSnapshot:
    code = draft.published()
    reject_if(code_problems(code, product_ids))
    return code


def revise_code(
    current: ConventionCodeSnapshot, changes: CodeChanges, product_ids: Iterable[str]
) -> ConventionCodeSnapshot:
    if current.revoked:
        raise NoLongerChanges(f"the code {current.code} is revoked and no longer changes")
    code = ConventionCodeSnapshot.model_validate(
        {**changes.model_dump(), "code": current.code, "revoked": False}
    )
    reject_if(code_problems(code, product_ids))
    return code


def revoke_code(current: ConventionCodeSnapshot) -> ConventionCodeSnapshot:
    return current.model_copy(update={"revoked": True})


def merge_seed(
    stored: ConventionCodeSnapshot, seed: ConventionCodeSnapshot, product_ids: Iterable[str]
) -> ConventionCodeSnapshot:
    """A changed seed entry wins, except that it cannot bring a revoked code back."""
    code = seed.model_copy(update={"revoked": stored.revoked or seed.revoked})
    reject_if(code_problems(code, product_ids))
    return code
