#!/bin/sh
test_description='web: hostile requests never read outside the web and log directories, and limits hold'
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/t/lib-web.sh"

test_expect_success 'setup: a run with a log, a web directory with links leading out' '
	mkdir dags &&
	daily_dag dags/h <<-\EOF &&
	tasks:
	  a:
	    kind: command
	    run: "echo log line; echo x >{target}"
	    target: "out/{date}.txt"
	EOF
	dag-cli run h --date 2026-01-01 >/dev/null 2>&1 &&
	mkdir -p www/sub secret &&
	echo "SECRET-CONTENT" >secret/key.txt &&
	echo "<p>hello</p>" >www/index.html &&
	echo "inside" >www/sub/page.html &&
	ln -s ../secret/key.txt www/leak.txt &&
	ln -s ../secret www/dirlink &&
	ln -s /etc/passwd www/passwd &&
	mkfifo www/fifo &&
	ln -s ../../../../secret/key.txt .dag-state/logs/h/a/2026-01-02.1.log &&
	web_start --web www
'

# Each line: a raw path and the status it must get.  None may return
# the secret, /etc/passwd, or anything but a JSON error.
test_expect_success 'traversal, encodings, links and odd files are refused' '
	cat >cases <<-\EOF &&
	/../secret/key.txt 400
	/sub/../../secret/key.txt 400
	/%2e%2e/secret/key.txt 400
	/%2E%2e/secret/key.txt 400
	/.%2e/secret/key.txt 400
	/%252e%252e/secret/key.txt 400
	/..%2fsecret%2fkey.txt 400
	/..%5csecret%5ckey.txt 400
	/sub%2f..%2f..%2fsecret/key.txt 400
	//etc/passwd 400
	/./index.html 400
	/index.html%00.js 400
	/%zz 400
	/leak.txt 403
	/dirlink/key.txt 403
	/passwd 403
	/fifo 403
	/sub 403
	/nope.html 404
	EOF
	while read path want; do
		curl -sS --path-as-is -o body -w "%{http_code}" "$(web_url)$path" >code || return 1
		if [ "$(cat code)" != "$want" ]; then
			echo "$path: got $(cat code), want $want"; cat body; return 1
		fi
		if grep -q "SECRET\|root:" body; then
			echo "$path leaked:"; cat body; return 1
		fi
	done <cases &&
	get /sub/page.html && code_is 200 && grep inside body &&
	get / && code_is 200 && grep hello body
'

test_expect_success 'log requests cannot name other files' '
	cat >cases <<-\EOF &&
	task=a&partition=../../../secret/key&attempt=1 400
	task=a&partition=%2e%2e&attempt=1 400
	task=a&partition=2026-01-01%2f..&attempt=1 400
	task=..&partition=2026-01-01&attempt=1 404
	task=a&partition=2026-01-02&attempt=1 403
	task=a&partition=2026-01-01&attempt=0 400
	task=a&partition=2026-01-01&attempt=x 400
	task=a&partition=2026-01-01&attempt=1&offset=-5 400
	task=a&partition=2026-01-01&attempt=1 200
	EOF
	while read q want; do
		curl -sS -o body -w "%{http_code}" "$(web_url)/api/dags/h/log?$q" >code || return 1
		if [ "$(cat code)" != "$want" ]; then
			echo "$q: got $(cat code), want $want"; cat body; return 1
		fi
		if grep -q "SECRET" body; then
			echo "$q leaked"; return 1
		fi
	done <cases
'

test_expect_success 'bad methods, bodies, headers and hosts are refused' '
	get / -X DELETE && code_is 405 &&
	get /api/dags -X PUT && code_is 405 &&
	head -c 100000 /dev/zero >big &&
	get /api/dags/h/run -X POST --data-binary @big && code_is 413 &&
	get /api/dags -H "Host: attacker.example:80" && code_is 403 &&
	python3 -c "print(\"x\" * 40000)" >longhdr &&
	get /api/dags -H "X-Long: $(cat longhdr)" &&
	test "$(cat code)" -ge 400 &&
	get "/$(python3 -c "print(\"a\" * 2000)")" && code_is 414
'

test_expect_success 'malformed requests on a raw socket get an error, never a crash' '
	port=$(web_url | sed "s/.*://") &&
	python3 - "$port" <<-\EOF &&
	import socket, sys
	port = int(sys.argv[1])
	cases = [
	    b"GET ../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
	    b"GET /api/dags HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
	    b"GET /api/dags HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
	    b"\x00\x01\x02\r\n\r\n",
	    b"GET /\x7f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
	    b"POST /api/dags/h/run HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    b"GET /api/dags/h/grid?from=%ff%fe&to=%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
	]
	for c in cases:
	    s = socket.create_connection(("127.0.0.1", port), timeout=3)
	    s.sendall(c)
	    s.shutdown(socket.SHUT_WR)
	    try:
	        data = s.recv(4096)
	    except (ConnectionResetError, socket.timeout):
	        data = b""	# closed, or left to the connection timeout
	    s.close()
	    assert b"SECRET" not in data and b"root:" not in data, data
	    if data:
	        status = int(data.split(b" ")[1])
	        assert 400 <= status < 600, (c, data[:200])
	EOF
	get /api/dags && code_is 200
'

test_expect_success 'many idle connections do not take the server down' '
	port=$(web_url | sed "s/.*://") &&
	python3 - "$port" <<-\EOF &&
	import socket, sys
	port = int(sys.argv[1])
	held = []
	for i in range(300):
	    s = socket.create_connection(("127.0.0.1", port), timeout=5)
	    s.sendall(b"GET /api/dags HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	    held.append(s)
	for s in held:
	    s.close()
	EOF
	get /api/dags && code_is 200 &&
	web_stop
'

test_done
