"""Resources bound to every asset in the code location, and its executor (in process: a step
does not start a process and reload the project)."""

import dagster as dg

from orchestration.resources import NotifierResource, PipelineResource
from orchestration.warehouse.dbt_project import dbt_cli


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "pipeline": PipelineResource(),
            "dbt": dbt_cli(),
            "notifier": NotifierResource(),
        },
        executor=dg.in_process_executor,  # every run, the UI's ad hoc ones included
    )
