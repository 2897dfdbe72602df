"""Run with the Open edX interpreter (tests/openedx/env.py), not the project's: print the Avro
schemas openedx-events generates for the given event types, as one JSON object
{event type: schema}. tests/openedx/make_schemas.py drives it and writes the files."""

import json
import sys

from openedx_events.event_bus.avro.serializer import AvroSignalSerializer
from openedx_events.tooling import OpenEdxPublicSignal, load_all_signals

load_all_signals()
out = {}
for event_type in sys.argv[1:]:
    # schema_string() is what edx-event-bus-kafka registers: json.dumps(schema, sort_keys=True)
    signal = OpenEdxPublicSignal.get_signal_by_type(event_type)
    out[event_type] = json.loads(AvroSignalSerializer(signal).schema_string())
json.dump(out, sys.stdout)
