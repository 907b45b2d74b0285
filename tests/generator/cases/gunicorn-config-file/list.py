import multiprocessing

wsgi_app = "wsgi:app"
bind = (
    "127.0.0.1:5001",  # TCP
    'unix:/run/unitcorn-test/list.sock',
)
workers = multiprocessing.cpu_count() * 2 + 1
