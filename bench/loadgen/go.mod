module tierspay/bench/loadgen

go 1.22
