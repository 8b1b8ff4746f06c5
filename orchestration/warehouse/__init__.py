"""What feeds and runs dbt: the dbt project and its manifest, the statistician's configuration
files checked before a build, the quality flags' rules, and the incremental refresh plan."""
