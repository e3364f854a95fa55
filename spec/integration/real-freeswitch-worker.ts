// The real-FreeSWITCH driver's thread (see connectInWorker in real-freeswitch.ts): it connects to the
// FreeSWITCH, places the calls it is sent and sends back each call's result.
import { parentPort, workerData } from 'node:worker_threads';
import { capabilitiesOf, connectRealFreeSwitch, type FromWorker, type ToWorker, type WorkerSetup } from './real-freeswitch.ts';

const port = parentPort;
if (port === null) throw new Error('real-freeswitch-worker.ts runs as a worker thread only');
const setup = workerData as WorkerSetup;
const send = (message: FromWorker): void => port.postMessage(message);

connectRealFreeSwitch(setup.at, setup.password, setup.routerListen).then(
  (pbx) => {
    port.on('message', (m: ToWorker) => {
      if (m.type === 'close') {
        void pbx.close().then(() => send({ type: 'closed' }));
        return;
      }
      pbx.placeCall(m.mode, m.script).then(
        (result) => send({ type: 'placed', id: m.id, result }),
        (err: Error) => send({ type: 'placed', id: m.id, error: err.message }),
      );
    });
    send({ type: 'ready', description: pbx.description, can: capabilitiesOf(pbx) });
  },
  (err: Error) => send({ type: 'failed', message: err.message }),
);
