"""The house rules of docs/architecture.md, checked: the layers contract (import-linter, imports
inside functions included) holds and catches an upward import; one definition per public name;
package ``__init__`` files only import their members; no member imports back from its own
package's ``__init__``; no private name is imported across modules."""

from __future__ import annotations

import ast
import collections
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pde_lib"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
#: names every ``pde_lib/cli`` command module defines: the command interface of ``cli/__init__``
CLI_COMMAND_INTERFACE = {"add_arguments", "run", "check_arguments"}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield path, ".".join(parts), path.name == "__init__.py"


def run_lint(cwd: Path, env_path: Path | None = None) -> subprocess.CompletedProcess:
    env = None
    if env_path is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(env_path)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_layers_contract_is_kept():
    result = run_lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_layers_contract_catches_an_upward_import_inside_a_function(tmp_path):
    """A copy of the package where the data layer reaches up to the report layer, inside a
    function: the contract breaks and names the import."""
    shutil.copytree(PACKAGE, tmp_path / "pde_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    layout = tmp_path / "pde_lib" / "data" / "layout.py"
    layout.write_text(layout.read_text() + "\n\ndef upward():\n    from pde_lib.report import aggregate\n"
                      "    return aggregate\n")
    result = run_lint(tmp_path, env_path=tmp_path)
    assert result.returncode != 0
    assert "pde_lib.data is not allowed to import pde_lib.report" in result.stdout
    assert "pde_lib.data.layout -> pde_lib.report" in result.stdout


def test_one_definition_per_public_name():
    """No public module-level name (constant, function, class) is defined in two modules, except
    the command interface every CLI command module implements."""
    defined = collections.defaultdict(list)
    for path, name, _ in modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                targets = [node.name]
            elif isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            else:
                continue
            for t in targets:
                if not t.startswith("_") and not (name.startswith("pde_lib.cli.") and t in CLI_COMMAND_INTERFACE):
                    defined[t].append(name)
    repeated = {k: v for k, v in defined.items() if len(v) > 1}
    assert not repeated, f"names defined in more than one module: {repeated}"


def test_package_inits_only_import_their_members():
    """A package ``__init__`` holds a docstring, imports of its own members and ``__all__``:
    registries and definitions live in modules of their own."""
    for path, name, is_init in modules():
        if not is_init or name == "pde_lib":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # docstring
            if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["__all__"]:
                continue
            assert isinstance(node, (ast.Import, ast.ImportFrom)), f"{path}:{node.lineno}: not an import"
            if isinstance(node, ast.ImportFrom):
                assert node.module and node.module.startswith(name), \
                    f"{path}:{node.lineno}: imports {node.module}, not one of its members"


def test_no_member_imports_back_from_its_package_init_or_a_private_name():
    """``from pde_lib.pkg import NAME`` inside ``pde_lib/pkg/`` would run the package ``__init__``
    half-way (the old registries needed ``noqa: E402`` for it); private names stay in their module."""
    packages = {name for _, name, is_init in modules() if is_init}
    for path, name, is_init in modules():
        own = name if is_init else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("pde_lib"):
                continue
            for alias in node.names:
                assert not alias.name.startswith("_"), f"{path}:{node.lineno}: imports private {alias.name}"
                submodule = f"{node.module}.{alias.name}"
                if not is_init and node.module == own and own in packages:
                    assert (PACKAGE.parent / (submodule.replace(".", "/") + ".py")).exists(), \
                        f"{path}:{node.lineno}: imports {alias.name} from its own package's __init__"


@pytest.mark.parametrize("module", ["pde_lib.data", "pde_lib.data.reader"])
def test_reading_data_imports_no_solver(module):
    """The data layer stands alone: reading a file does not import the PDE solvers."""
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('pde_lib.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pde_lib.pdes" not in out and "pde_lib.data" in out


def test_orchestration_marker_names_existing_modules_and_spares_the_numerical_ones(request):
    """Every module the ``orchestration`` marker covers exists (a renamed module would otherwise
    fall out of it silently), and the numerical modules stay unmarked, so .ci/run re-runs them
    under torch's other CPU kernels."""
    from conftest import ORCHESTRATION_MODULES

    present = {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    assert ORCHESTRATION_MODULES <= present, sorted(ORCHESTRATION_MODULES - present)
    assert {"test_pdes", "test_models", "test_training", "test_pretraining", "test_augmentations",
            "test_data", "test_report_stats"}.isdisjoint(ORCHESTRATION_MODULES)
    assert request.node.get_closest_marker("orchestration") is not None  # this module is marked
