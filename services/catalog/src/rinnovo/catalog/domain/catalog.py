"""A whole catalog, as the seed file declares it: the admin API's models and rules."""

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from rinnovo.catalog.domain.drafts import CodeDraft, ProductDraft
from rinnovo.catalog.domain.rules import code_problems, new_product_problems


class Catalog(BaseModel):
    """Products and convention codes that satisfy every catalog rule together."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    products: tuple[ProductDraft, ...]
    convention_codes: tuple[CodeDraft, ...] = ()

    @model_validator(mode="after")
    def _rules(self) -> "Catalog":
        problems: list[str] = []
        ids = [p.product_id for p in self.products]
        if len(set(ids)) != len(ids):
            problems.append("products: product ids must be unique")
        for i, product in enumerate(self.products):
            problems += [f"products.{i}.{f}: {m}" for f, m in new_product_problems(product)]
        codes = [c.code for c in self.convention_codes]
        if len(set(codes)) != len(codes):
            problems.append("convention_codes: codes must be unique")
        for i, code in enumerate(self.convention_codes):
            problems += [f"convention_codes.{i}.{f}: {m}" for f, m in code_problems(code, ids)]
        if problems:
            raise PydanticCustomError("catalog_rules", "; ".join(problems))
        return self
