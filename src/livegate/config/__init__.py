"""L1 configuration: pydantic models, profiles, env overrides."""

from livegate.config.loader import ResolvedConfig, find_profile, load_config, packaged_profiles
from livegate.config.models import LivegateConfig

__all__ = ["LivegateConfig", "ResolvedConfig", "find_profile", "load_config", "packaged_profiles"]
