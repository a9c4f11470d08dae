"""Start ritlink subcommands as real processes (re-exported for the tests)."""

from simulators.processes import REPO_ROOT, RitlinkProcess, child_env, ritlink_cmd, run_ritlink, write_toml

__all__ = ["REPO_ROOT", "RitlinkProcess", "child_env", "ritlink_cmd", "run_ritlink", "write_toml"]
