"""Act settings, the development seal command and loading the seal."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from reports import make_dev_certificate
from service.acts.cli import seal_cert_command
from service.acts.sealing import SealConfigError, load_sealer
from service.settings import SealSettings, SettingsError, load_settings


def test_issuer_and_seal_default_to_a_development_issuer_without_a_seal() -> None:
    settings = load_settings({})
    assert settings.issuer.completion_prefix == "АВР"
    assert settings.issuer.handover_prefix == "АСП"
    assert settings.issuer.tax_id_kind == "bin"
    assert not settings.seal.enabled
    assert load_sealer(settings.seal) is None


def test_issuer_and_seal_from_the_environment() -> None:
    settings = load_settings(
        {
            "NARYAD_ISSUER_LEGAL_NAME": "ООО «Наряд»",
            "NARYAD_ISSUER_TAX_ID": "7701234567",
            "NARYAD_ISSUER_TAX_ID_KIND": "inn",
            "NARYAD_ISSUER_ADDRESS": "г. Москва",
            "NARYAD_ISSUER_PHONE": "+7 495 000 00 00",
            "NARYAD_ISSUER_PLACE": "г. Москва",
            "NARYAD_ACT_PREFIX_COMPLETION": "АКТ",
            "NARYAD_ACT_PREFIX_HANDOVER": "АПП",
            "NARYAD_SEAL_PKCS12": "/etc/naryad/seal.p12",
            "NARYAD_SEAL_PASSPHRASE_FILE": "/etc/naryad/seal.pass",
        }
    )
    assert settings.issuer.legal_name == "ООО «Наряд»"
    assert settings.issuer.tax_id_kind == "inn"
    assert settings.issuer.completion_prefix == "АКТ"
    assert settings.seal.enabled
    assert settings.seal.passphrase_file == "/etc/naryad/seal.pass"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"NARYAD_ISSUER_TAX_ID": "12-34"}, "NARYAD_ISSUER_TAX_ID"),
        ({"NARYAD_ISSUER_TAX_ID_KIND": "vat"}, "NARYAD_ISSUER_TAX_ID_KIND"),
        ({"NARYAD_ACT_PREFIX_COMPLETION": "A B"}, "NARYAD_ACT_PREFIX_COMPLETION"),
        ({"NARYAD_ACT_PREFIX_HANDOVER": "A/B"}, "NARYAD_ACT_PREFIX_HANDOVER"),
        ({"NARYAD_ISSUER_ADDRESS": "x" * 301}, "NARYAD_ISSUER_ADDRESS"),
        ({"NARYAD_SEAL_PASSPHRASE": "p"}, "NARYAD_SEAL_PKCS12"),
        (
            {
                "NARYAD_SEAL_PKCS12": "a.p12",
                "NARYAD_SEAL_PASSPHRASE": "p",
                "NARYAD_SEAL_PASSPHRASE_FILE": "f",
            },
            "NARYAD_SEAL_PASSPHRASE_FILE",
        ),
    ],
)
def test_bad_act_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(env)


def test_dev_seal_cert_writes_a_private_usable_seal_once(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "seal"
    first = runner.invoke(seal_cert_command, ["--dir", str(target), "--days", "30"])
    assert first.exit_code == 0, first.output
    p12, passphrase = target / "dev-seal.p12", target / "dev-seal.pass"
    for path in (p12, passphrase):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"NARYAD_SEAL_PKCS12={p12.absolute()}" in first.output
    sealer = load_sealer(SealSettings(pkcs12_path=str(p12), passphrase_file=str(passphrase)))
    assert sealer is not None
    assert sealer.signer_name == "naryad development seal"
    assert "pkcs12" not in repr(sealer)  # no key material in logs or tracebacks
    assert "passphrase" not in repr(sealer)
    kept = p12.read_bytes()
    second = runner.invoke(seal_cert_command, ["--dir", str(target)])
    assert second.exit_code == 0
    assert "kept" in second.output
    assert p12.read_bytes() == kept
    forced = runner.invoke(seal_cert_command, ["--dir", str(target), "--force"])
    assert forced.exit_code == 0
    assert p12.read_bytes() != kept


def test_seal_configuration_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SealConfigError, match="NARYAD_SEAL_PKCS12"):
        load_sealer(SealSettings(pkcs12_path=str(tmp_path / "missing.p12")))
    bundle, _ = make_dev_certificate("x")
    path = tmp_path / "seal.p12"
    path.write_bytes(bundle)
    with pytest.raises(SealConfigError, match="passphrase"):
        load_sealer(SealSettings(pkcs12_path=str(path), passphrase="wrong"))


def test_a_broken_seal_configuration_does_not_break_reading_acts(tmp_path: Path) -> None:
    from litestar.datastructures import State

    from service.acts.services import sealer_from_state

    broken = load_settings({"NARYAD_SEAL_PKCS12": str(tmp_path / "missing.p12")})
    state = State({"settings": broken})
    assert sealer_from_state(state) is None  # logged; acts are signed unsealed meanwhile
    assert sealer_from_state(state) is None
    bundle, passphrase = make_dev_certificate("ok")
    (tmp_path / "ok.p12").write_bytes(bundle)
    good = load_settings(
        {
            "NARYAD_SEAL_PKCS12": str(tmp_path / "ok.p12"),
            "NARYAD_SEAL_PASSPHRASE": passphrase.decode(),
        }
    )
    sealer = sealer_from_state(State({"settings": good}))
    assert sealer is not None
    assert sealer.signer_name == "ok"
