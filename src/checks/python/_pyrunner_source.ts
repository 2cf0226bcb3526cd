/**
 * The source of `pyrunner.py`, the Python side of the Python check loader (spec §7.5). It is
 * written to `<run_path>/pyrunner/pyrunner.py` when the runner starts, so the compiled agent
 * carries it. Kept free of backticks and dollar-brace so that it fits a raw template literal
 * (whose first newline is cut off).
 */
export const PYRUNNER_SOURCE: string = String.raw`
# outpost-pyrunner: runs Datadog Agent Python checks for outpost, in one long-lived process.
#
# outpost starts it as 'python3 -X utf8 -u pyrunner.py' and talks JSON Lines with it: agent
# messages on stdin, runner messages on a private copy of the original stdout. fd 1 and
# sys.stdout are pointed at stderr, so a stray print() in a check cannot corrupt the
# protocol; outpost logs every stderr line. The modules the Datadog Agent embeds
# (aggregator, datadog_agent, _util, util, tagger, containers, kubeutil) are made here in pure
# Python before any check is imported, so datadog_checks.base sees a running agent.
import base64
import importlib
import importlib.util
import inspect
import json
import math
import os
import subprocess
import sys
import threading
import time
import traceback
import types
import warnings

PROTOCOL_FD = os.dup(1)
os.dup2(2, 1)
sys.stdout = sys.stderr

_write_lock = threading.Lock()
_state = {
    'config': {},
    'agent_version': '',
    'hostname': '',
    'clustername': '',
    'host_tags_json': '{}',
    'run_path': '',
    'process_start_time': time.time(),
    'tracemalloc': False,
}
_local = threading.local()


def _num(v):
    # JSON has no NaN or Infinity: they cross as strings, and the agent drops such samples.
    if isinstance(v, float) and not math.isfinite(v):
        return 'NaN' if math.isnan(v) else ('Infinity' if v > 0 else '-Infinity')
    return v


def _clean(v):
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, (bytes, bytearray)):
        try:
            return bytes(v).decode('utf-8')
        except UnicodeDecodeError:
            return {'b64': True, 'data': base64.b64encode(bytes(v)).decode('ascii')}
    if isinstance(v, dict):
        return {str(_text(k)): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_clean(x) for x in v]
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)


def send(msg):
    try:
        line = json.dumps(msg, separators=(',', ':'), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        line = json.dumps(_clean(msg), separators=(',', ':'), ensure_ascii=False, allow_nan=False)
    data = (line + '\n').encode('utf-8')
    with _write_lock:
        view = memoryview(data)
        while view:
            n = os.write(PROTOCOL_FD, view)
            view = view[n:]


def _text(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode('utf-8', 'replace')
    return v if isinstance(v, str) else str(v)


def _tags(tags):
    # As the agent: tags that are not strings are skipped.
    out = []
    for t in tags or ():
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, (bytes, bytearray)):
            out.append(bytes(t).decode('utf-8', 'replace'))
    return out


def _hostname(h):
    return '' if h is None else _text(h)


# ---------------------------------------------------------------- calls into the agent

_calls = {}
_calls_lock = threading.Lock()
_next_rid = [0]
CALL_TIMEOUT_S = 10


def call(fn, *args):
    """Asks the agent and waits for its reply; only the calling thread waits."""
    with _calls_lock:
        _next_rid[0] += 1
        rid = _next_rid[0]
        slot = {'event': threading.Event()}
        _calls[rid] = slot
    send({'t': 'call', 'rid': rid, 'fn': fn, 'args': _clean(list(args))})
    if not slot['event'].wait(CALL_TIMEOUT_S):
        with _calls_lock:
            _calls.pop(rid, None)
        raise RuntimeError('outpost: {} timed out'.format(fn))
    if not slot.get('ok'):
        raise RuntimeError(slot.get('error') or 'outpost: {} failed'.format(fn))
    return slot.get('value')


def on_reply(msg):
    with _calls_lock:
        slot = _calls.pop(msg.get('rid'), None)
    if slot is not None:
        slot.update(msg)
        slot['event'].set()


# ---------------------------------------------------------------- the agent's modules


def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


def submit_metric(check, check_id, mtype, name, value, tags, hostname, flush_first_value=False):
    send({'t': 'm', 'id': _text(check_id), 'mt': int(mtype), 'n': _text(name), 'v': _num(float(value)),
          'tags': _tags(tags), 'h': _hostname(hostname), 'ffv': bool(flush_first_value)})


def submit_service_check(check, check_id, name, status, tags, hostname, message):
    send({'t': 'sc', 'id': _text(check_id), 'n': _text(name), 'st': int(status), 'tags': _tags(tags),
          'h': _hostname(hostname), 'msg': '' if message is None else _text(message)})


def submit_event(check, check_id, event):
    e = {}
    for k, v in (event or {}).items():
        k = _text(k)
        if k == 'tags':
            e[k] = _tags(v)
        elif k == 'timestamp':
            try:
                e[k] = int(v)
            except (TypeError, ValueError):
                e[k] = 0
        elif v is not None:
            e[k] = _text(v)
    send({'t': 'ev', 'id': _text(check_id), 'e': e})


def submit_histogram_bucket(check, check_id, name, value, lower_bound, upper_bound, monotonic, hostname, tags,
                            flush_first_value=False):
    send({'t': 'hb', 'id': _text(check_id), 'n': _text(name), 'v': int(value), 'lo': _num(float(lower_bound)),
          'hi': _num(float(upper_bound)), 'mono': bool(monotonic), 'h': _hostname(hostname), 'tags': _tags(tags),
          'ffv': bool(flush_first_value)})


def submit_event_platform_event(check, check_id, raw_event, event_type):
    msg = {'t': 'ep', 'id': _text(check_id), 'et': _text(event_type)}
    if isinstance(raw_event, (bytes, bytearray)):
        msg['raw'] = base64.b64encode(bytes(raw_event)).decode('ascii')
        msg['b64'] = True
    else:
        msg['raw'] = _text(raw_event)
    send(msg)


def get_config(key):
    # The real agent answers None for a key it does not know (the test stub answers '').
    value = _state['config']
    for part in _text(key).split('.'):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def headers(agentConfig=None, http_host=None, **kwargs):
    h = {
        'User-Agent': 'Datadog Agent/{}'.format(_state['agent_version']),
        'Content-Type': 'application/x-www-form-urlencoded',
        'Accept': 'text/html, */*',
    }
    if http_host is not None:
        h['Host'] = http_host
    return h


def agent_log(msg, level=20):
    lvl = {50: 'critical', 40: 'error', 30: 'warn', 20: 'info', 10: 'debug', 7: 'trace'}.get(level, 'info')
    m = {'t': 'log', 'lvl': lvl, 'msg': _text(msg)}
    check_id = getattr(_local, 'check_id', None)
    if check_id:
        m['id'] = check_id
    send(m)


_CACHE_INVALID = None


def _cache_file(key):
    import re

    global _CACHE_INVALID
    if _CACHE_INVALID is None:
        _CACHE_INVALID = re.compile(r'[^a-zA-Z0-9_-]')
    key = _text(key)
    parent, sep, name = key.partition(':')
    if not sep:
        parent, name = '', key
    parent = _CACHE_INVALID.sub('', parent)
    name = _CACHE_INVALID.sub('', name)
    if not name:
        raise ValueError('Cannot use persistent cache key "{}": no valid file name in it'.format(key))
    directory = os.path.join(_state['run_path'], parent) if parent else _state['run_path']
    return directory, os.path.join(directory, name)


def write_persistent_cache(key, value):
    directory, path = _cache_file(key)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        # The mode of os.open applies only when the file is created.
        os.fchmod(fd, 0o600)
        os.write(fd, _text(value).encode('utf-8'))
    finally:
        os.close(fd)


def read_persistent_cache(key):
    _, path = _cache_file(key)
    try:
        with open(path, 'r', encoding='utf-8') as f:
            return f.read()
    except FileNotFoundError:
        return ''


class SubprocessOutputEmptyError(Exception):
    pass


def subprocess_output(cmd, raise_on_empty, env=None):
    # No shell: the command is an argument list, as in the agent.
    args = [_text(a) for a in cmd]
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, shell=False)
    out = proc.stdout.decode('utf-8', 'replace')
    err = proc.stderr.decode('utf-8', 'replace')
    if raise_on_empty and not out:
        raise SubprocessOutputEmptyError('get_subprocess_output expected output but had none.')
    return out, err, proc.returncode


def _noop(*args, **kwargs):
    return None


def install_modules():
    _module('aggregator', GAUGE=0, RATE=1, COUNT=2, MONOTONIC_COUNT=3, COUNTER=4, HISTOGRAM=5, HISTORATE=6,
            submit_metric=submit_metric, submit_service_check=submit_service_check, submit_event=submit_event,
            submit_histogram_bucket=submit_histogram_bucket,
            submit_event_platform_event=submit_event_platform_event)
    _module(
        'datadog_agent',
        get_version=lambda: _state['agent_version'],
        get_config=get_config,
        get_hostname=lambda: _state['hostname'],
        get_clustername=lambda: _state['clustername'],
        get_host_tags=lambda: _state['host_tags_json'],
        tracemalloc_enabled=lambda: bool(_state['tracemalloc']),
        headers=headers,
        log=agent_log,
        send_log=lambda line, check_id: send({'t': 'slog', 'id': _text(check_id), 'line': _text(line)}),
        set_check_metadata=lambda check_id, name, value: send(
            {'t': 'meta', 'id': _text(check_id), 'k': _text(name), 'v': _text(value)}),
        set_external_tags=lambda tags: send({'t': 'xtags', 'tags': _clean(tags)}),
        write_persistent_cache=write_persistent_cache,
        read_persistent_cache=read_persistent_cache,
        # The agent answers these with the trace agent's obfuscator; a failure is RuntimeError.
        obfuscate_sql=lambda query, options='': call('obfuscate_sql', _text(query), _text(options or '')),
        obfuscate_sql_exec_plan=lambda plan, normalize=False: call('obfuscate_sql_exec_plan', _text(plan),
                                                                   bool(normalize)),
        obfuscate_mongodb_string=lambda command: call('obfuscate_mongodb_string', _text(command)),
        get_process_start_time=lambda: _state['process_start_time'],
        emit_agent_telemetry=_noop,
        report_issue=_noop,
        resolve_issue=_noop,
    )
    util_attrs = dict(subprocess_output=subprocess_output, get_subprocess_output=subprocess_output,
                      SubprocessOutputEmptyError=SubprocessOutputEmptyError, headers=headers)
    _module('_util', **util_attrs)
    _module('util', **util_attrs)

    def tag(entity_id, cardinality):
        if cardinality not in (0, 1, 2):
            raise TypeError('Invalid cardinality')
        return call('tagger.tag', _text(entity_id), int(cardinality))

    _module('tagger', LOW=0, ORCHESTRATOR=1, HIGH=2, tag=tag,
            get_tags=lambda entity, high_card=False: tag(entity, 2 if high_card else 0))
    _module('containers', is_excluded=lambda name, image, namespace='': bool(
        call('containers.is_excluded', _text(name), _text(image), _text(namespace or ''))))
    _module('kubeutil', get_connection_info=lambda: call('kubeutil.get_connection_info') or {})


# ---------------------------------------------------------------- loading checks

_checks = {}  # check_id -> {'check', 'name', 'lock'}
_modules = {}  # checks.d path -> (stamp, module)
_base = {}


class BaseMissing(ImportError):
    pass


def agent_check_class():
    """AgentCheck, or an ImportError naming the package when datadog_checks.base is missing."""
    if 'class' not in _base:
        try:
            from datadog_checks.base import AgentCheck
            _base['class'] = AgentCheck
        except ImportError as e:
            _base['class'] = None
            _base['error'] = e
    if _base['class'] is None:
        raise BaseMissing('the datadog-checks-base package is not importable by {} ({}): install '
                          '"datadog-checks-base[deps]" for that python, or set python_binary'
                          .format(sys.executable, _base['error']))
    return _base['class']


def find_wheel(name):
    try:
        return importlib.util.find_spec('datadog_checks.' + name) is not None
    except (ImportError, ValueError):
        return False


def find_file(name, checksd):
    for d in checksd:
        path = os.path.join(d, name + '.py')
        if os.path.isfile(path):
            return path
    return None


def load_file(name, path):
    st = os.stat(path)
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _modules.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _modules[path] = (stamp, module)
    return module


def validate(path):
    """Byte-compiles a checks.d file: a SyntaxError fails the load, SyntaxWarnings are returned."""
    with open(path, 'rb') as f:
        source = f.read()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            # What py_compile does, without writing a .pyc anywhere.
            compile(source, path, 'exec', dont_inherit=True)
        except SyntaxError as e:
            raise SyntaxError('{} ({} line {})'.format(e.msg, path, e.lineno)) from None
    return ['{}:{}: {}'.format(w.filename, w.lineno, w.message) for w in caught
            if issubclass(w.category, SyntaxWarning)]


def pick_class(module, base):
    """The AgentCheck subclass in the module that no other class there derives from."""
    found = [v for _, v in sorted(vars(module).items()) if inspect.isclass(v) and issubclass(v, base) and v is not base]
    leaves = [c for c in found if not any(o is not c and issubclass(o, c) for o in found)]
    return leaves[0] if leaves else None


def do_load(msg):
    rid = msg['rid']
    name = msg['check_name']
    check_id = msg['check_id']
    try:
        is_wheel = find_wheel(name)
        path = None if is_wheel else find_file(name, msg.get('checksd') or [])
        if not is_wheel and path is None:
            send({'t': 'load_error', 'rid': rid, 'not_found': True,
                  'error': 'no module datadog_checks.{} and no {}.py in checks.d'.format(name, name),
                  'traceback': ''})
            return
        base = agent_check_class()
        py3_warnings = []
        if is_wheel:
            module = importlib.import_module('datadog_checks.' + name)
        else:
            if msg.get('validate'):
                py3_warnings = validate(path)
            module = load_file(name, path)
        cls = pick_class(module, base)
        if cls is None:
            raise TypeError('no subclass of AgentCheck in {}'.format(module.__name__))
        # What AgentCheck.load_config does, without its extra python process per call.
        init_config = _yaml(msg.get('init_config_yaml')) or {}
        instance = _yaml(msg.get('instance_yaml'))
        if instance is None:
            instance = {}
        if not isinstance(instance, dict):
            raise TypeError('the instance must be a map, not {}'.format(type(instance).__name__))
        try:
            check = cls(name=name, init_config=init_config, instances=[instance])
        except Exception:
            first = sys.exc_info()
            # Old checks take the whole agent config as a fourth argument (deprecated).
            try:
                check = cls(name=name, init_config=init_config, instances=[instance],
                            agentConfig=dict(_state['config']))
            except Exception:
                # The first error is the one that says what is wrong with the check.
                raise first[1].with_traceback(first[2])
            agent_log('{}: constructed with the deprecated agentConfig argument'.format(name), 30)
        check.check_id = check_id
        old = _checks.get(check_id)
        _checks[check_id] = {'check': check, 'name': name, 'lock': threading.Lock()}
        if old is not None:
            _cancel(old['check'])
        send({'t': 'loaded', 'rid': rid, 'version': str(getattr(module, '__version__', 'unversioned')),
              'class': cls.__name__, 'module_file': getattr(module, '__file__', '') or '', 'is_wheel': is_wheel,
              'py3_warnings': py3_warnings})
    except BaseException as e:
        # The missing package is the whole story: its traceback would only point here.
        kind = 'ImportError' if isinstance(e, BaseMissing) else type(e).__name__
        tb = '' if isinstance(e, BaseMissing) else traceback.format_exc()
        send({'t': 'load_error', 'rid': rid, 'error': '{}: {}'.format(kind, e), 'traceback': tb})


def _yaml(text):
    if not text:
        return None
    import yaml

    return yaml.safe_load(text)


# ---------------------------------------------------------------- running checks

_slots = threading.BoundedSemaphore(4)


def _error(message, tb=''):
    return json.dumps([{'message': message, 'traceback': tb}])


def do_run(msg):
    rid, check_id, seq = msg['rid'], msg['check_id'], msg.get('seq')
    entry = _checks.get(check_id)
    done = {'t': 'done', 'rid': rid, 'id': check_id, 'seq': seq, 'warnings': [], 'mem': {}}
    if entry is None:
        done['result'] = _error('check {} is not loaded'.format(check_id))
        send(done)
        return
    if not entry['lock'].acquire(blocking=False):
        done['result'] = _error('already running')
        send(done)
        return
    try:
        with _slots:
            _local.check_id = check_id
            started = time.monotonic()
            trace = _state['tracemalloc']
            if trace:
                _trace_begin()
            try:
                result = entry['check'].run()
            except BaseException as e:
                result = _error(str(e), traceback.format_exc())
            try:
                done['warnings'] = [_text(w) for w in entry['check'].get_warnings()]
            except Exception:
                pass
            if trace:
                done['mem'] = _trace_end()
            done['dur_ms'] = (time.monotonic() - started) * 1000
            done['result'] = result if isinstance(result, str) else _text(result or '')
            _local.check_id = None
    finally:
        entry['lock'].release()
    send(done)


_tracing = {'measuring': False, 'stop': None}


def _trace_begin():
    # Tracing covers one run only, so what is still traced at its end is what the run kept.
    # AgentCheck's own memory profiler (on with tracemalloc_debug) starts and stops tracemalloc
    # around check(): its stop() is held back while a run is measured, or it would wipe the
    # figures. Runs are one at a time then (one runner), as in the agent.
    import tracemalloc

    if _tracing['stop'] is None:
        _tracing['stop'] = tracemalloc.stop

        def stop():
            if not _tracing['measuring']:
                _tracing['stop']()

        tracemalloc.stop = stop
    if tracemalloc.is_tracing():
        _tracing['stop']()
    tracemalloc.start()
    _tracing['measuring'] = True


def _trace_end():
    import tracemalloc

    current, peak = tracemalloc.get_traced_memory()
    _tracing['measuring'] = False
    _tracing['stop']()
    return {'alloc_delta': current, 'peak': peak}


def _cancel(check):
    try:
        check.cancel()
    except Exception:
        agent_log('cancel() failed: {}'.format(traceback.format_exc()), 30)


def do_cancel(msg):
    entry = _checks.get(msg.get('check_id'))
    if entry is not None:
        _cancel(entry['check'])


def do_unload(msg):
    # Dropped here, on the main thread, so a load of the same ID sent after it stays loaded;
    # only cancel() goes to a thread.
    entry = _checks.pop(msg.get('check_id'), None)
    if entry is not None:
        threading.Thread(target=_cancel, args=(entry['check'],), daemon=True).start()


def do_hello(msg):
    global _slots
    _state['config'] = msg.get('config') or {}
    for k in ('agent_version', 'hostname', 'clustername', 'host_tags_json', 'run_path', 'process_start_time'):
        if msg.get(k) is not None:
            _state[k] = msg[k]
    _state['tracemalloc'] = bool(msg.get('tracemalloc'))
    _slots = threading.BoundedSemaphore(max(1, int(msg.get('runners') or 4)))
    for p in reversed(msg.get('sys_path') or []):
        if p not in sys.path:
            sys.path.insert(0, p)
    install_modules()
    send({'t': 'ready', 'python_version': '.'.join(str(x) for x in sys.version_info[:3]), 'pid': os.getpid()})


def shutdown():
    for entry in list(_checks.values()):
        _cancel(entry['check'])
    sys.stderr.flush()
    os._exit(0)


def spawn(fn, msg):
    # Loads and runs get their own thread: a check may call into the agent, whose reply only
    # this main thread can read.
    threading.Thread(target=fn, args=(msg,), daemon=True).start()


def main():
    handlers = {'load': lambda m: spawn(do_load, m), 'run': lambda m: spawn(do_run, m),
                'cancel': lambda m: spawn(do_cancel, m), 'unload': do_unload,
                'reply': on_reply, 'hello': do_hello}
    for raw in sys.stdin.buffer:
        try:
            msg = json.loads(raw)
        except ValueError:
            print('ignoring a line that is not JSON: {!r}'.format(raw[:200]), file=sys.stderr)
            continue
        t = msg.get('t')
        if t == 'shutdown':
            shutdown()
        handler = handlers.get(t)
        if handler is None:
            print('ignoring unknown message type {!r}'.format(t), file=sys.stderr)
            continue
        try:
            handler(msg)
        except Exception:
            send({'t': 'fatal', 'error': traceback.format_exc()})
            os._exit(70)
    # stdin closed: the agent is gone.
    shutdown()


if __name__ == '__main__':
    main()
`.slice(1);
