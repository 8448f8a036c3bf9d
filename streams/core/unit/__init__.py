"""One unit: daily sums of person contributions, headcount, and the rolling indicators read off them."""
