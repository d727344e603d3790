"""The ``[ion]`` table of a scenario file: how ION contact plans name the scenario's nodes.

ION plans (``ionadmin`` commands, ionrc(5)) name nodes by number. ``[ion.nodes]`` gives the
scenario node each number stands for, both when an ION plan is read (``marsrelay simulate
--ion PLAN``) and when one is written (``--export-ion``; nodes not listed get the smallest free
numbers). ``--node NUMBER=NAME`` on the command line adds to and overrides it. Example::

    [ion.nodes]
    1 = "Rosalind Franklin"
    2 = "TGO"
    3 = "DSS-63"

Keys are ION node numbers (positive integers), values scenario node names (checked when the
scenario is loaded); a name may appear only once. Unknown keys are an error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["IonConfig"]


class IonConfig(BaseModel):
    """Settings read from the scenario's ``[ion]`` table (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid")

    nodes: dict[int, str] = Field(
        default_factory=dict,
        description="ION node number -> scenario node name",
        json_schema_extra={"allowed": "ION node numbers (positive integers) = scenario node "
                                      "names, e.g. 1 = \"Rosalind Franklin\""},
    )

    @field_validator("nodes", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                text = str(key).strip()
                if not text.isdigit() or int(text) < 1:
                    raise ValueError(f"ION node number {str(key)!r} is not a positive integer")
        return value

    @field_validator("nodes")
    @classmethod
    def _names(cls, value: dict[int, str]) -> dict[int, str]:
        names = list(value.values())
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{dup[0]!r} is given more than one ION node number")
        return value
