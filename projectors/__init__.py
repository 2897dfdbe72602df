"""The stream side: pure projection functions and the faust agents that wire them to Redis."""
