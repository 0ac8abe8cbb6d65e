// The todo demo arrives with issue #6.
export {};
