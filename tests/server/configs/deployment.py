# The config file from a real deployment (issue 3), as it was: the tests
# copy it with the bind address changed to a free port.
bind = '127.0.0.1:5000'
workers = 1
threads = 1
proc_name = 'app'
pidfile = './app.pid'
loglevel = 'debug'
logfile = './debug.log'
errorlog = './error.log'
timeout = 90
keepalive = 75
worker_class = 'gevent'
