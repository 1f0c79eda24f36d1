"""``[execution] ambiguous_timeout_secs`` is a typed config key (issue 10 §3b)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from livegate.config.models import ExecutionConfig, LivegateConfig


def test_execution_config_when_absent_then_60_seconds() -> None:
    assert LivegateConfig().execution.ambiguous_timeout_secs == 60.0


def test_execution_config_when_set_then_read_and_non_positive_refused() -> None:
    assert (
        LivegateConfig.model_validate({"execution": {"ambiguous_timeout_secs": 15}}).execution.ambiguous_timeout_secs
        == 15
    )
    with pytest.raises(ValidationError):
        ExecutionConfig(ambiguous_timeout_secs=0)
    with pytest.raises(ValidationError):
        LivegateConfig.model_validate({"execution": {"resend": True}})
