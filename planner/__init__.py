from .compare import CompareError, Comparison, compare
from .export import export_csv, export_excel
from .fanout import FanOutResult, TaskFailure, run_many
from .pipeline import PipelineCache, PipelineError, run
from .results import ScenarioResult
from .scenario import Scenario, ScenarioError, load_scenario
from .store import NotFoundError, Store, StoreError

__all__ = [
    "CompareError", "Comparison", "NotFoundError", "PipelineCache", "PipelineError",
    "Scenario", "ScenarioError", "ScenarioResult", "Store", "StoreError", "compare",
    "load_scenario", "run", "run_many", "FanOutResult", "TaskFailure",
    "export_csv", "export_excel"]
