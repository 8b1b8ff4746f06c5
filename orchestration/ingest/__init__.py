"""From the landing zone to raw Parquet: which delivery feeds each extract-month, the
contract check of a delivered file, its quality profile, and the reference extracts."""
