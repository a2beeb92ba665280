"""What is made of runs: indicators, paired comparisons, charts, German number formats, result files."""
