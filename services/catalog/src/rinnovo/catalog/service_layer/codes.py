"""Operators' changes of convention codes: created, revised, revoked for good."""

from rinnovo.catalog.domain import codes as rules
from rinnovo.catalog.domain.audit import Entry
from rinnovo.catalog.domain.drafts import CodeChanges, CodeDraft
from rinnovo.catalog.service_layer.entries import Catalog, change, create
from rinnovo.contracts.catalog import ConventionCodeSnapshot
from rinnovo.runtime.changes import Stored

Code = Stored[Entry[ConventionCodeSnapshot]]


async def create_code(catalog: Catalog, draft: CodeDraft, by: str) -> Code:
    code = rules.create_code(draft, await catalog.products.ids())
    return await create(catalog.codes, code, catalog.who(by))


async def revise_code(
    catalog: Catalog,
    code: str,
    changes: CodeChanges,
    by: str,
    expected_version: int | None = None,
) -> Code:
    product_ids = await catalog.products.ids()

    def decide(current: ConventionCodeSnapshot) -> ConventionCodeSnapshot:
        return rules.revise_code(current, changes, product_ids)

    who = catalog.who(by)
    return await change(catalog.codes, code, decide, who, "code revised", expected_version)


async def revoke_code(
    catalog: Catalog, code: str, by: str, expected_version: int | None = None
) -> Code:
    who = catalog.who(by)
    return await change(
        catalog.codes, code, rules.revoke_code, who, "code revoked", expected_version
    )
