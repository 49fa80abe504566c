"""The CLI spells out choices of heavy modules (so `main.py tables` imports neither pandas
nor scipy); they must agree with the modules they come from."""
import subprocess
import sys


def test_choices_agree_with_services():
    from services.cells.cell_inspection import LINK_KINDS, SITE_CHOICES
    from services.cli import cli_cells, cli_connectivity
    from services.connectivity.connectivity_matrix import ORDERS, WEIGHTS
    assert cli_cells.SYNAPSE_CHOICES == tuple(k for k, _ in LINK_KINDS if k != "cell")
    assert cli_cells.SITES == tuple(s for s, _ in SITE_CHOICES)
    assert cli_connectivity.WEIGHTS == WEIGHTS and cli_connectivity.ORDERS == ORDERS


def test_tables_command_path_imports_no_pandas_scipy_qt():
    code = ("import sys; from services.cli import cli_commands; "
            "from services.local.local_source import LocalSource; "
            "cli_commands.parse_args(['tables']); "
            "print(sorted(m for m in ('pandas', 'scipy', 'pyqtgraph', 'caveclient', 'PySide6')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
