// placeholder until the Curl module lands
