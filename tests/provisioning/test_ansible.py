"""The Ansible side without containers: syntax, lint, the inventory's roles, rendered templates.

The rendered configurations go through the same validators the roles use (hostapd, dnsmasq,
nginx, redis-server) when those programs are installed; .ci/molecule.sh installs them.
"""
from __future__ import annotations

import configparser
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# The Ansible tools come from requirements-provisioning.txt. A .venv made by ./test.sh may lack
# them: skip there. .ci/molecule.sh installs them and sets PROVISIONING_TESTS_REQUIRED=1, so in
# CI these tests always run.
if importlib.util.find_spec("ansible") is None or importlib.util.find_spec("ansiblelint") is None:
    if os.environ.get("PROVISIONING_TESTS_REQUIRED"):
        raise RuntimeError("requirements-provisioning.txt is not installed in this environment")
    pytest.skip("pip install -r requirements-provisioning.txt to run the Ansible tests",
                allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VAULT_PASSWORD = REPO / "molecule" / "default" / "vault-password"
VALIDATE = REPO / "roles" / "common" / "files" / "constellation-validate"
ENV = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
       "PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(Path.home()),
       "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
       "ANSIBLE_ROLES_PATH": str(REPO / "roles")}


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def render(tmp_path: Path, role: str, templates: list[str], **variables) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    extra = {"ansible_python_interpreter": sys.executable, "repo": str(REPO), "role": role,
             "templates": templates, "out_dir": str(tmp_path),
             "ansible_managed": "Ansible managed", **variables}
    run(str(BIN / "ansible-playbook"), "-i", "localhost,", "-e", json.dumps(extra),
        str(REPO / "tests" / "provisioning" / "render.yml"))
    return tmp_path


def validate(kind: str, path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(VALIDATE), kind, str(path), *extra], capture_output=True,
                          text=True, timeout=60)


def needs(program: str) -> None:
    if not (shutil.which(program) or Path("/usr/sbin", program).exists()):
        pytest.skip(f"{program} is not installed (.ci/molecule.sh installs it)")


@pytest.mark.parametrize("playbook", ["site.yml", "upgrade.yml", "channel.yml"])
def test_playbooks_pass_the_syntax_check(playbook):
    run(str(BIN / "ansible-playbook"), "-i", "inventory", "--vault-password-file",
        str(VAULT_PASSWORD), "--syntax-check", f"playbooks/{playbook}")


def test_ansible_lint_production_profile_is_clean():
    proc = run(str(BIN / "ansible-lint"), "--profile", "production", "--offline", "--nocolor",
               "playbooks", "roles", "molecule", "tests/provisioning/render.yml", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_each_role_switches_on_the_features_of_the_feature_table():
    proc = run(str(BIN / "ansible-inventory"), "-i", "inventory", "--vault-password-file",
               str(VAULT_PASSWORD), "--list")
    hosts = json.loads(proc.stdout)["_meta"]["hostvars"]
    features = {v["node_role"]: set(v["node_features"]) for v in hosts.values()}
    assert features == {
        "terminal": {"desktop_notifications"},
        "control": {"nginx", "redis", "workers", "access_point", "rfid", "lcd",
                    "desktop_notifications"},
        "satellite": {"nginx", "redis", "workers", "access_point", "rfid"},
        "watchtower": {"nginx", "redis", "workers", "postgresql"},
    }
    modes = {v["node_role"]: v.get("access_point_mode") for v in hosts.values()}
    assert modes["control"] == "public" and modes["satellite"] == "router"
    # The secrets come from the vault, decrypted with the example password.
    assert all(v["vault_constellation_secret_key"] for v in hosts.values())


@pytest.mark.parametrize("mode", ["public", "router"])
def test_access_point_modes(tmp_path, mode):
    out = render(tmp_path, "access_point", ["hostapd.conf", "dnsmasq.conf", "constellation-ap.nft"],
                 access_point_mode=mode, access_point_passphrase="correct horse battery")
    hostapd = (out / "hostapd.conf").read_text()
    dnsmasq = (out / "dnsmasq.conf").read_text()
    nft = (out / "constellation-ap.nft").read_text()
    assert "wpa_passphrase=correct horse battery" in hostapd
    assert "country_code=US" in hostapd
    if mode == "public":
        assert "ap_isolate=1" in hostapd
        assert "address=/#/10.42.0.1" in dnsmasq
        assert "redirect to :80" in nft and "masquerade" not in nft
    else:
        assert "ap_isolate=0" in hostapd
        assert "address=/#/" not in dnsmasq
        assert 'oifname "eth0" masquerade' in nft and "redirect" not in nft


def test_hostapd_validator_accepts_good_and_refuses_bad_files(tmp_path):
    needs("hostapd")
    out = render(tmp_path, "access_point", ["hostapd.conf"], access_point_interface="wlan-test0")
    good = out / "hostapd.conf"
    assert validate("hostapd", good).returncode == 0
    bad = tmp_path / "bad.conf"
    bad.write_text(good.read_text().replace("hw_mode=g", "hw_mode=banana"))
    result = validate("hostapd", bad)
    assert result.returncode != 0
    assert "errors found in configuration file" in result.stderr


def test_dnsmasq_configuration_passes_its_syntax_check(tmp_path):
    needs("dnsmasq")
    for mode in ("public", "router"):
        out = render(tmp_path / mode, "access_point", ["dnsmasq.conf"], access_point_mode=mode)
        dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        proc = subprocess.run([dnsmasq, "--test", f"--conf-file={out / 'dnsmasq.conf'}"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


@pytest.fixture
def certificates(tmp_path):
    needs("openssl")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    return tmp_path


def test_nginx_site_proxies_websockets_and_passes_client_certificates(tmp_path, certificates):
    out = render(tmp_path, "nginx", ["constellation.conf"],
                 nginx_tls_certificate=str(certificates / "cert.pem"),
                 nginx_tls_certificate_key=str(certificates / "key.pem"),
                 nginx_client_verify="optional",
                 nginx_client_ca_certificate=str(certificates / "cert.pem"))
    site = (out / "constellation.conf").read_text()
    ocpp = site[site.index("location /ocpp/"):]
    ocpp = ocpp[:ocpp.index("}")]
    assert "proxy_set_header Upgrade $http_upgrade;" in ocpp
    assert "proxy_set_header X-SSL-Client-Verify $ssl_client_verify;" in ocpp
    assert "proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;" in ocpp
    assert "ssl_verify_client optional;" in site
    assert "alias /opt/constellation/current/app/static/;" in site
    # Every location that proxies sets the client-certificate headers itself (nginx does not
    # inherit proxy_set_header into a location that sets any), so a client cannot forge them.
    assert site.count("proxy_pass") == site.count("X-SSL-Client-S-DN") == 4
    needs("nginx")
    result = validate("nginx", out / "constellation.conf")
    assert result.returncode == 0, result.stderr


def test_nginx_spreads_chargers_over_several_hosts_without_sticky_sessions(tmp_path):
    out = render(tmp_path, "nginx", ["constellation.conf"],
                 nginx_upstream_servers=["10.0.0.11:8888", "10.0.0.12:8888"])
    site = (out / "constellation.conf").read_text()
    upstream = site[site.index("upstream constellation_app"):]
    upstream = upstream[:upstream.index("}")]
    assert "server 10.0.0.11:8888 max_fails=3 fail_timeout=10s;" in upstream
    assert "server 10.0.0.12:8888 max_fails=3 fail_timeout=10s;" in upstream
    assert "ip_hash" not in upstream and "sticky" not in upstream
    needs("nginx")
    result = validate("nginx", out / "constellation.conf")
    assert result.returncode == 0, result.stderr


def test_terminal_nodes_run_one_web_worker_and_redis_nodes_one_per_core(tmp_path):
    single = (render(tmp_path / "t", "constellation", ["constellation.env"],
                     constellation_secret_key="s" * 32) / "constellation.env").read_text()
    assert "WEB_WORKERS='1'" in single and "REDIS_URL" not in single
    many = (render(tmp_path / "c", "constellation", ["constellation.env"],
                   constellation_secret_key="s" * 32,
                   constellation_redis_url="redis://127.0.0.1:6379/0",
                   ansible_facts={"processor_vcpus": 4}) / "constellation.env").read_text()
    assert "WEB_WORKERS='4'" in many


def test_redis_configuration_is_accepted_by_redis_server(tmp_path):
    out = render(tmp_path, "redis", ["redis.conf"], redis_port=16399)
    conf = (out / "redis.conf").read_text()
    assert "port 16399" in conf and "bind 127.0.0.1" in conf
    needs("redis-server")
    assert validate("redis", out / "redis.conf").returncode == 0
    bad = tmp_path / "bad.conf"
    bad.write_text(conf + "no-such-directive yes\n")
    assert validate("redis", bad).returncode != 0


def test_environment_file_and_upgrade_configuration(tmp_path):
    variables = {"constellation_secret_key": "s" * 32, "constellation_repo_url": "file:///srv/c.git",
                 "constellation_redis_url": "redis://127.0.0.1:6379/0",
                 "constellation_features": ["desktop_notifications"],
                 "constellation_node_role": "control", "constellation_channel": "latest",
                 "constellation_extra_env": {"OCPP_PING_INTERVAL": "30"},
                 "upgrade_channel_name": "latest"}
    out = render(tmp_path, "constellation", ["constellation.env", "upgrade.ini"], **variables)
    env = (out / "constellation.env").read_text()
    assert "REDIS_URL='redis://127.0.0.1:6379/0'" in env
    assert "CONSTELLATION_FEATURES='desktop_notifications'" in env
    assert "NODE_ROLE='control'" in env and "UPGRADE_CHANNEL='latest'" in env
    assert "OCPP_PING_INTERVAL='30'" in env
    assert "DATABASE_URL" not in env  # SQLite under the instance directory
    assert "WEB_WORKERS='1'" in env  # no facts gathered here: one core
    assert validate("env", out / "constellation.env").returncode == 0
    bad = tmp_path / "bad.env"
    bad.write_text(env + "BROKEN=value with spaces\n")
    assert validate("env", bad).returncode != 0

    ini = configparser.ConfigParser(interpolation=None)
    ini.read(out / "upgrade.ini")
    upgrade = ini["upgrade"]
    assert upgrade["remote"] == "file:///srv/c.git"
    assert upgrade["channel"] == "latest"
    assert upgrade["migrate_command"].startswith("/usr/sbin/runuser -u constellation -- ")
    assert upgrade["health_url"] == "http://127.0.0.1:8888/healthz"


def test_the_app_gets_each_roles_name_and_features_by_its_own_names():
    """The inventory's glue hands the constellation role the app's role and feature names:
    the role's defaults in app/services/node_features.py (the access point by its mode)."""
    from app.services.node_features import ROLE_DEFAULTS

    hosts = {"lab-terminal-1": "terminal", "kiosk-control-1": "control",
             "depot-satellite-1": "satellite", "cloud-watchtower-1": "watchtower"}
    for host, role in hosts.items():
        found = {}
        for var in ("constellation_node_role", "constellation_features"):
            proc = run(str(BIN / "ansible"), host, "-i", "inventory", "--vault-password-file",
                       str(VAULT_PASSWORD), "-m", "debug", "-a", f"var={var}")
            found.update(json.loads(proc.stdout.split("=>", 1)[1]))
        assert found["constellation_node_role"] == role
        assert set(found["constellation_features"]) == set(ROLE_DEFAULTS[role]), host
