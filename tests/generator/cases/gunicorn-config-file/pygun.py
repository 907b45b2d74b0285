# gunicorn config of the integration test
bind = '127.0.0.1:5000'
workers = 2
