"""Resources bound to every asset in the code location."""

import dagster as dg

from orchestration.resources import PipelineResource, dbt_resource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"pipeline": PipelineResource(), "dbt": dbt_resource()})
