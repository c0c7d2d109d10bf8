import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `import strategies`

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"


@pytest.fixture(scope="session")
def pnap():
    """pynapple, the oracle; tests using it skip where it is not installed."""
    module = pytest.importorskip("pynapple")
    warnings.filterwarnings("ignore", module="pynapple")
    return module


@pytest.fixture(scope="session")
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (a user's own clone)")
    return SHARED.resolve()
