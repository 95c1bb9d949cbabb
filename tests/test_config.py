"""Settings merge as documented: defaults < config file < environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_mock.server.run.config import DEMO_API_KEY, ConfigError, ServeSettings, resolve_settings


def test_defaults_serve_the_canonical_spec_on_loopback_with_the_demo_key() -> None:
    settings = resolve_settings(None, {}, {})
    assert settings == ServeSettings()
    assert (settings.spec, settings.host, settings.port) == ("campaigns", "127.0.0.1", 8080)
    assert settings.effective_keys() == [DEMO_API_KEY]


def test_each_layer_overrides_the_one_below(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("port: 9001\nthreads: 2\napi_keys: [from-file]\nhost: 127.0.0.2\n")
    environ = {"CAMPAIGN_MOCK_PORT": "9002", "CAMPAIGN_MOCK_API_KEYS": "env-a,env-b", "CAMPAIGN_MOCK_THREADS": "3"}
    settings = resolve_settings(str(config), environ, {"port": "9003"})
    assert settings.port == 9003
    assert settings.api_keys == ["env-a", "env-b"]
    assert settings.threads == 3
    assert settings.host == "127.0.0.2"


def test_custom_error_formats_come_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(
        "error_format: mine\nerror_formats:\n  mine:\n    content_type: application/json\n"
        "    body: {message: '{detail}', code: '{status}'}\n"
    )
    settings = resolve_settings(str(config), {}, {})
    assert settings.error_format == "mine"
    assert settings.error_formats == {
        "mine": {"content_type": "application/json", "body": {"message": "{detail}", "code": "{status}"}}
    }


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="environment variable CAMPAIGN_MOCK_LOG_REQUESTS: expected true or false"):
        resolve_settings(None, {"CAMPAIGN_MOCK_LOG_REQUESTS": "maybe"}, {})
