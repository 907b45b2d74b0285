workers = 3
timeout = 60
