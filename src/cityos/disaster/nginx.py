"""nginx configuration that serves the disaster snapshot in front of the app.

``cityos disaster nginx-config`` prints it for the operator; the tests and the benchmark run
nginx with the very same text. The snapshot answers the busiest documents from disk, and the
home page stays reachable when the app itself is down (502/503/504 fall back to it).
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from cityos.disaster import fastpath


def server_block(snapshot_dir: Path, listen: str, upstream: str) -> str:
    """One ``server { }`` for the ``http { }`` block of nginx.conf."""
    root = str(snapshot_dir.resolve())
    exact = []
    for path, (relative, media_type) in sorted(fastpath.ROUTES.items()):
        exact.append(
            f"    location = {path} {{\n"
            f"        alias {root}/{relative};\n"
            f"        default_type {media_type.decode()};\n"
            f"        charset utf-8;\n"
            f'        add_header Cache-Control "public, max-age=5";\n'
            f'        add_header Access-Control-Allow-Origin "*";\n'
            f"    }}\n"
        )
    return (
        "# Mitaka City OS: the disaster snapshot from disk, everything else from the app.\n"
        "server {\n"
        f"    listen {listen};\n"
        "    charset_types application/json application/geo+json application/atom+xml;\n"
        + "".join(exact)
        + "    # Every alert's CAP document\n"
        "    location ~ ^/disaster/alerts/[0-9a-f-]+\\.cap\\.xml$ {\n"
        f"        root {root};\n"
        "        default_type application/cap+xml;\n"
        "        types { }\n"
        '        add_header Cache-Control "public, max-age=60";\n'
        "        try_files $uri @app;\n"
        "    }\n"
        "    location / {\n"
        f"        proxy_pass http://{upstream};\n"
        "        proxy_set_header Host $host;\n"
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "        proxy_set_header X-Forwarded-Proto $scheme;\n"
        "        client_max_body_size 200m;\n"
        "        # When the app is down or overloaded, residents still get the light page.\n"
        "        proxy_intercept_errors on;\n"
        "        error_page 502 503 504 = @snapshot_home;\n"
        "    }\n"
        "    location @app {\n"
        f"        proxy_pass http://{upstream};\n"
        "        proxy_set_header Host $host;\n"
        "    }\n"
        "    location @snapshot_home {\n"
        f"        root {root};\n"
        "        default_type text/html;\n"
        "        try_files /disaster/index.html =503;\n"
        "    }\n"
        "}\n"
    )


def standalone_config(snapshot_dir: Path, listen: str, upstream: str, work_dir: Path) -> str:
    """A whole nginx.conf that runs unprivileged in the foreground, its files in ``work_dir``."""
    work = str(work_dir.resolve())
    # Started by root (a container, CI), workers would drop to "nobody" and could not read
    # private folders: keep the starting user's rights.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return (
        user + "worker_processes auto;\n"
        "daemon off;\n"
        f"pid {work}/nginx.pid;\n"
        f"error_log {work}/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "    access_log off;\n"
        "    sendfile on;\n"
        "    keepalive_requests 100000;\n"
        f"    client_body_temp_path {work}/body;\n"
        f"    proxy_temp_path {work}/proxy;\n"
        f"    fastcgi_temp_path {work}/fastcgi;\n"
        f"    uwsgi_temp_path {work}/uwsgi;\n"
        f"    scgi_temp_path {work}/scgi;\n"
        + "".join(
            f"    {line}\n" for line in server_block(snapshot_dir, listen, upstream).splitlines()
        )
        + "}\n"
    )
