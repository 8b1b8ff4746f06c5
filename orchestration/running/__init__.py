"""Running the pipeline in process, as the command line and the tests do: the runner, the
Dagster instance, whether outputs are current, run reports and the warehouse's single writer."""
