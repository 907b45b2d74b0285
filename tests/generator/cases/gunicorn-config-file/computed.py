import os

# the port from the environment
bind = "127.0.0.1:" + os.environ.get("APP_PORT", "5002")
